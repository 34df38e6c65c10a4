"""Faults the command line must survive, injected where the operating system would raise them."""

import errno

from tinygrad_lab.lab.output import files


class FullDisk:
    """``os.fdopen`` whose ``full``-th file (counting from 1) fails on its first write, as a
    file does on a disk that fills up while it is written."""

    def __init__(self, full):
        self.full, self.opened, self.real = full, 0, files.os.fdopen

    def __call__(self, fd, mode):
        self.opened += 1
        handle, fails = self.real(fd, mode), self.opened == self.full

        class Filling:
            def write(self, data):
                if fails:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return handle.write(data)

            def __getattr__(self, name):
                return getattr(handle, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()

        return Filling()
