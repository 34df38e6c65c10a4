"""The lab's question along time: how the gradient fades through a recurrent network's steps,
and which cell (vanilla RNN, LSTM, GRU) still learns the adding problem as sequences grow."""
