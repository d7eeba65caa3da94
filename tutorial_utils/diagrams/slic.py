"""(to be written)"""

__all__ = ["slic_toy_diagram"]


def slic_toy_diagram(*args, **kwargs):
    raise NotImplementedError("slic_toy_diagram is not written yet")
