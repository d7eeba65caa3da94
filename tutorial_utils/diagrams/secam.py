"""(to be written)"""

__all__ = ["secam_pipeline_diagram"]


def secam_pipeline_diagram(*args, **kwargs):
    raise NotImplementedError("secam_pipeline_diagram is not written yet")
