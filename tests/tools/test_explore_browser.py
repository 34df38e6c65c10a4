"""The explorer in a real browser (headless Chromium, driven by Playwright): every step of
backward highlights the node the Python trace visited and shows the trace's numbers; forward
mode shows numpy's values; clicks, the slider, play/pause and keys move through the steps; the
page reaches no network and logs no error; a 20-hidden-layer network stays responsive."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from explorer_helpers import ROLL, lab_loss, node_ids, python_trace
from viz_helpers import parse_dot

import tinygrad_lab as tl
from tinygrad_lab.display import norm
from tinygrad_lab.lab.explorer.explore import lab_explorer
from tinygrad_lab.viz import draw_graph, explore

pytestmark = [pytest.mark.needs_dot, pytest.mark.needs_chromium]  # pages laid out by `dot`

WAITING = "rgb(238, 238, 238)"  # explorer.js's WAITING.fill, #eeeeee
READ_PANEL = """() => {
  const field = name => document.querySelector(`[data-field="${name}"]`).textContent;
  const rows = [...document.querySelectorAll('[data-field="flows"] tr')]
    .map(row => [...row.cells].map(cell => cell.textContent));
  const current = [...document.querySelectorAll('#graph g.node.current')]
    .map(g => g.getAttribute('data-id'));
  return {step: document.getElementById('step-label').textContent, op: field('op'),
          layer: field('layer'), site: field('site'), saved: field('saved'),
          explain: field('explain'), source: field('source'), rows, current};
}"""
READ_FILLS = """() => Object.fromEntries([...document.querySelectorAll('#graph g.node')].map(g => {
  const shape = [...g.querySelectorAll('polygon, ellipse, path')]
    .find(s => s.getAttribute('fill') !== 'none');
  return [g.getAttribute('data-id'), shape ? shape.style.fill : null];
}))"""


def rgb(color: str) -> str:
    return "rgb({}, {}, {})".format(*(int(color[i : i + 2], 16) for i in (1, 3, 5)))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The lab network's page, and the Python side: its trace, node ids and draw_graph colours."""
    model, loss = lab_loss()
    path = tmp_path_factory.mktemp("explorer") / "lab.html"
    title = f"roll {ROLL} · run 1 · seed 0 · epoch 1"
    page = explore(loss, model=model, path=path, title=title)
    trace = python_trace(loss, model)  # recorded independently; tensors now hold their grads
    dot_nodes, _ = parse_dot(draw_graph(loss, model=model, grads=True, layers=True).source)
    by_order = {order: ctx_id for ctx_id, order in trace.visit_order.items()}
    return SimpleNamespace(
        path=path, loss=loss, model=model, trace=trace, ids=node_ids(loss), data=page.data,
        colors={k: a["fillcolor"] for k, a in dot_nodes.items() if "‖grad‖" in a["label"]},
        by_order=by_order,
    )  # fmt: skip


def expected_fills(lab: SimpleNamespace, step: int) -> dict[str, str]:
    """What each tensor must be filled with after ``step`` steps, from the Python trace alone."""
    arrival = {id(lab.loss): 0}
    for record in lab.trace.records[:step]:
        ctx = next(n for n in tl.graph.nodes(lab.loss) if id(n) == lab.by_order[record.order])
        for parent, sent in zip(ctx.parents, record.grad_out_norms.split(", "), strict=True):
            if sent != "—":
                arrival[id(parent)] = record.order
    fills = {}
    for t in tl.viz.walk.tensors(lab.loss):
        node_id = lab.ids[id(t)]
        if id(t) in arrival:
            fills[node_id] = rgb(lab.colors[node_id])
        else:
            fills[node_id] = WAITING if t.requires_grad else ""
    return fills


def test_every_backward_step_shows_what_the_python_trace_recorded(lab, open_page, screenshot):
    page = open_page(lab.path).page
    steps = len(lab.trace)
    start = page.evaluate(READ_PANEL)
    assert start["step"] == f"step 0 / {steps}" and start["current"] == []
    fills = page.evaluate(READ_FILLS)
    assert {k: fills[k] for k in expected_fills(lab, 0)} == expected_fills(lab, 0)  # the seed
    for record in lab.trace.records:
        page.click("#next")
        shown = page.evaluate(READ_PANEL)
        node_id = lab.ids[lab.by_order[record.order]]
        assert shown["step"] == f"step {record.order} / {steps}"
        assert shown["current"] == [node_id]
        label = page.locator(f'#graph g.node[data-id="{node_id}"] text').first.text_content()
        assert label == record.op
        assert (shown["op"], shown["layer"], shown["site"]) == (
            record.op,
            record.layer,
            record.site,
        )
        assert shown["saved"] == f"{record.saved_bytes:,} bytes"
        received, *sent = shown["rows"]
        assert received[0] == "receives at"
        assert received[2:] == [record.output_shape, f"{record.grad_in_norm:.3g}"]
        assert [row[2] for row in sent] == record.input_shapes.split(", ")
        assert [row[3] for row in sent] == record.grad_out_norms.split(", ")
        assert shown["source"].lstrip().startswith("@staticmethod\ndef backward(ctx, grad)")
        fills = page.evaluate(READ_FILLS)
        assert {k: fills[k] for k in expected_fills(lab, record.order)} == expected_fills(
            lab, record.order
        )
        if record.order == 6:
            screenshot(page, "explorer.png")  # docs/graphs.md's picture: half-way up the network
    page.click("#next")  # past the end: stays on the last step
    assert page.evaluate(READ_PANEL)["step"] == f"step {steps} / {steps}"


def test_clicking_a_node_jumps_to_its_step(lab, open_page):
    page = open_page(lab.path).page
    record = lab.trace.records[4]
    page.click(f'#graph g.node[data-id="{lab.ids[lab.by_order[record.order]]}"]')
    assert page.evaluate(READ_PANEL)["step"] == f"step 5 / {len(lab.trace)}"
    first_weight = lab.ids[id(lab.model[0].weight)]
    page.click(f'#graph g.node[data-id="{first_weight}"]')  # its gradient arrives last
    assert page.evaluate(READ_PANEL)["op"] == "Affine"
    assert page.evaluate(READ_PANEL)["layer"] == "0:Linear"
    page.click(f'#graph g.node[data-id="{lab.ids[id(lab.loss)]}"]')  # seeded before step 1
    assert page.evaluate(READ_PANEL)["step"].startswith("step 0 /")


def wait_for_text(page, element_id: str, text: str, timeout: float = 5_000) -> None:
    # a function, not a string: the page's CSP rightly refuses eval()
    page.wait_for_function(
        "([id, text]) => document.getElementById(id).textContent === text",
        arg=[element_id, text],
        timeout=timeout,
    )


def test_slider_play_pause_and_keys_move_through_the_steps(lab, open_page):
    page = open_page(lab.path).page
    steps = len(lab.trace)
    page.locator("#slider").fill("7")
    assert page.evaluate(READ_PANEL)["current"] == [lab.ids[lab.by_order[7]]]
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(READ_PANEL)["step"] == f"step 2 / {steps}"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(READ_PANEL)["step"] == f"step 1 / {steps}"
    page.select_option("#speed", "200")
    page.click("#play")
    assert page.locator("#play-text").text_content() == "Pause"
    wait_for_text(page, "step-label", f"step {steps} / {steps}", timeout=15_000)
    wait_for_text(page, "play-text", "Play")
    page.keyboard.press("End")
    page.select_option("#speed", "1200")
    page.click("#play")  # from the end, play starts over
    wait_for_text(page, "step-label", f"step 1 / {steps}")
    page.click("#play")  # pause
    paused_at = page.evaluate(READ_PANEL)["step"]
    page.wait_for_timeout(1500)
    assert page.evaluate(READ_PANEL)["step"] == paused_at


def test_forward_mode_steps_through_the_values_in_data_flow_order(lab, open_page, screenshot):
    page = open_page(lab.path).page
    page.click('button[data-mode="forward"]')
    ops = tl.graph.nodes(lab.loss)
    outputs = {id(t._ctx): t for t in tl.viz.walk.tensors(lab.loss) if t._ctx is not None}
    assert page.evaluate(READ_PANEL)["step"] == f"step 0 / {len(ops)}"
    fills = page.evaluate(READ_FILLS)
    for t in tl.viz.walk.tensors(lab.loss):
        assert (fills[lab.ids[id(t)]] == WAITING) == (t._ctx is not None)  # leaves are there
    for step, ctx in enumerate(ops, start=1):
        page.click("#next")
        shown = page.evaluate(READ_PANEL)
        assert shown["current"] == [lab.ids[id(ctx)]] and shown["op"] == ctx.name
        *inputs, output = shown["rows"]
        assert [row[3] for row in inputs] == [f"{norm(p.data):.3g}" for p in ctx.parents]
        assert output[2:] == [
            tl.display.shape_text(outputs[id(ctx)].shape),
            f"{norm(outputs[id(ctx)].data):.3g}",
        ]
        assert shown["source"].lstrip().startswith("@staticmethod\ndef forward(ctx")
        if step == 4:
            screenshot(page, "explorer-forward.png")
    page.click('button[data-mode="backward"]')  # the same op, now at its backward step
    assert page.evaluate(READ_PANEL)["current"] == [lab.ids[id(lab.loss._ctx)]]
    assert page.evaluate(READ_PANEL)["step"] == f"step 1 / {len(lab.trace)}"


def test_a_notebook_iframe_runs_the_same_page(lab, open_page):
    model, loss = lab_loss(n_samples=40)
    page = open_page(html=explore(loss, model=model)._repr_html_()).page
    frame = page.frame_locator("iframe")
    frame.locator("body[data-ready=true]").wait_for()
    frame.locator("#next").click()
    frame.locator("#next").click()
    assert frame.locator("#step-label").text_content() == "step 2 / 12"
    assert frame.locator('[data-field="op"]').text_content() == "Affine"


def test_nodes_beyond_the_budget_step_inside_the_more_node(open_page, tmp_path):
    model, loss = lab_loss(n_samples=40)
    page_data = explore(loss, model=model, path=tmp_path / "small.html", max_nodes=16).data
    page = open_page(tmp_path / "small.html").page
    hidden = 0
    for op_id in page_data["backward"]:
        page.click("#next")
        shown = page.evaluate(READ_PANEL)
        drawn = page_data["ops"][op_id]["drawn"]
        assert shown["current"] == [drawn]
        assert ("max_nodes=" in shown["explain"]) == (drawn == "more")
        hidden += drawn == "more"
    assert hidden > 0


def test_run_2_shows_its_network_and_what_made_it_at_every_step(open_page, tmp_path):
    explorer = lab_explorer(ROLL, seed=3, epoch=2, run=2)
    made_at = explorer.data["meta"]["made_at"]
    page = open_page(explorer.save(tmp_path / "run2.html")).page
    subtitle = page.locator(".subtitle").text_content()
    assert subtitle.startswith(f"roll {ROLL} · run 2 (8 hidden layers of 12, relu: 5 before")
    assert page.evaluate(READ_PANEL)["site"] == made_at  # the start: no op yet
    steps = explorer.data["meta"]["steps"]
    assert steps == 18  # 9 Affine, 8 ReLU, the MSE
    layers = set()
    for _ in range(steps):
        page.click("#next")
        shown = page.evaluate(READ_PANEL)
        assert shown["site"] == made_at
        layers.add(shown["layer"])
    assert {"16:Linear", "15:ReLU", "0:Linear"} <= layers  # run 2's layers, inserted ones too
    assert "made by tinygrad_lab" in made_at and "--run 2 --depth 5 --epoch 2 --seed 3" in made_at


def test_the_lab_network_at_depth_20_stays_responsive(open_page, tmp_path, screenshot):
    made = time.perf_counter()
    explorer = lab_explorer(ROLL, depth=20)
    made = time.perf_counter() - made
    path = explorer.save(tmp_path / "depth20.html")
    steps = explorer.data["meta"]["steps"]
    assert steps == 42  # 21 Affine, 20 ReLU, the MSE
    opened = time.perf_counter()
    page = open_page(path).page
    opened = time.perf_counter() - opened
    ready = page.evaluate("performance.now()")
    per_step = page.evaluate(
        """n => { const times = [];
          for (let k = 1; k <= n; k++) {
            const t0 = performance.now();
            window.backpropExplorer.go(k);
            document.body.getBoundingClientRect();  // include the style and layout it causes
            times.push(performance.now() - t0);
          }
          return times; }""",
        steps,
    )
    clicked = time.perf_counter()
    page.keyboard.press("Home")
    for _ in range(steps):
        page.click("#next")
    clicked = (time.perf_counter() - clicked) / steps
    assert page.evaluate(READ_PANEL)["step"] == f"step {steps} / {steps}"
    page.keyboard.press("Home")
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    screenshot(page, "explorer-depth20.png")
    print(
        f"depth 20: {len(explorer.html) / 1024:.0f} KiB page made in {made:.2f} s, opened in "
        f"{opened:.2f} s (ready at {ready:.0f} ms); a step takes {max(per_step):.1f} ms at most "
        f"(mean {sum(per_step) / steps:.1f} ms) in the page, {clicked * 1000:.0f} ms a click "
        "through Playwright"
    )
    assert len(explorer.html) < 1_000_000
    assert ready < 3000 and max(per_step) < 100 and clicked < 1.0
