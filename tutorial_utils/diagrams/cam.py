"""(to be written)"""

__all__ = ["cam_pipeline_diagram"]


def cam_pipeline_diagram(*args, **kwargs):
    raise NotImplementedError("cam_pipeline_diagram is not written yet")
