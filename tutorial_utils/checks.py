"""Input checks shared by every module: one place for each rule, one wording for each error.

Every public function of the book checks what it is given and says, in one line,
what is wrong and with which argument — never a traceback from deep inside NumPy
or PyTorch, and never a silently wrong result. The checks that more than one
module needs live here:

* :func:`as_tensor` and :func:`as_map_array` — numbers in a tensor or an array;
  a map of shape ``(h, w)`` or ``(n, h, w)`` without NaN;
* :func:`class_indices` — one class index or a sequence of them, in range;
* :func:`positive_int` — counts, steps and sizes (and :func:`positive_int_arg`,
  the same rule for a command line);
* :func:`as_rng` — a seed or a NumPy ``Generator``;
* below them, the checks of integers, seeds and numbers in a range, of label
  images, of the gradient methods' layers and targets, and of the metrics' inputs.

>>> positive_int(3, "steps")
3
>>> positive_int(0, "steps")
Traceback (most recent call last):
    ...
ValueError: steps must be a positive integer, got 0
>>> class_indices(7, num_classes=10)
([7], True)
"""

from __future__ import annotations

import argparse
import numbers

import numpy as np
import torch

__all__ = [
    "as_map_array",
    "as_numpy",
    "as_rng",
    "as_segments",
    "as_tensor",
    "class_indices",
    "class_per_image",
    "eval_model",
    "int_at_least",
    "model_batch",
    "module_of",
    "nonzero_gradient",
    "number_in",
    "one_image",
    "positive_int",
    "positive_int_arg",
    "require_grad",
    "seed_int",
    "target_scores",
]


def positive_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is an integer ≥ 1 (not a bool); else a ``ValueError`` naming ``name``.

    >>> positive_int(np.int64(5), "batch")
    5
    """
    return int_at_least(value, name, 1)


def positive_int_arg(text: str) -> int:
    """:func:`positive_int` for ``argparse``: ``type=positive_int_arg`` gives a one-line usage error.

    >>> positive_int_arg("4")
    4
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def as_rng(seed) -> np.random.Generator:
    """A NumPy ``Generator`` from an ``int`` seed, or the ``Generator`` itself.

    >>> as_rng(0).integers(10) == as_rng(0).integers(10)
    np.True_

    Raises ``TypeError`` for anything else (a float, a bool, ``None``).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or a numpy Generator, got {type(seed).__name__}")
    return np.random.default_rng(int(seed))


def as_numpy(value, name: str) -> np.ndarray:
    """A NumPy array from an array or a tensor (detached, on the CPU); anything else is a ``TypeError`` naming ``name``.

    >>> as_numpy(torch.ones(2), "values")
    array([1., 1.], dtype=float32)
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    return value


def as_tensor(value, name: str) -> torch.Tensor:
    """A detached tensor from a tensor or a numeric NumPy array (no copy where possible).

    Raises ``TypeError`` for other types and for arrays of booleans or objects.
    """
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_:
            raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
        return torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"{name} must be a torch tensor or numpy array, got {type(value).__name__}")


def class_indices(class_idx, num_classes: int) -> tuple[list[int], bool]:
    """The class indices as a list of ints, and whether a single index (not a sequence) was given.

    ``class_idx`` is an int (or a 0-d integer tensor) or a non-empty sequence,
    array or tensor of them, each in ``0 … num_classes-1``.

    >>> class_indices([3, 1], num_classes=5)
    ([3, 1], False)

    Raises ``TypeError`` for a non-integer, ``IndexError`` for an index out of
    range (naming the number of classes) and ``ValueError`` for an empty sequence.
    """

    def check(i) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (numbers.Integral, torch.Tensor)):
            raise TypeError(f"class_idx must be an integer (or a sequence of them), got {i!r}")
        if isinstance(i, torch.Tensor):
            if i.numel() != 1 or torch.is_floating_point(i):
                raise TypeError(f"class_idx must be an integer, got tensor {i!r}")
            i = i.item()
        i = int(i)
        if not 0 <= i < num_classes:
            raise IndexError(f"class_idx {i} is out of range: the model has {num_classes} classes (0..{num_classes - 1})")
        return i

    if isinstance(class_idx, torch.Tensor) and class_idx.ndim == 0:
        return [check(class_idx)], True
    if isinstance(class_idx, list) and class_idx and all(type(i) is int for i in class_idx):
        outside = next((i for i in class_idx if not 0 <= i < num_classes), None)  # plain ints: no NumPy needed
        if outside is not None:
            raise IndexError(f"class_idx {outside} is out of range: the model has {num_classes} classes "
                             f"(0..{num_classes - 1})")
        return list(class_idx), False
    many = _many_indices(class_idx)
    if many is not None:  # a range, an integer array or tensor: checked at once
        if many.size == 0:
            raise ValueError("class_idx is an empty sequence")
        outside = (many < 0) | (many >= num_classes)
        if outside.any():
            i = int(many[np.argmax(outside)])
            raise IndexError(f"class_idx {i} is out of range: the model has {num_classes} classes (0..{num_classes - 1})")
        return many.tolist(), False
    if isinstance(class_idx, (numbers.Integral,)) and not isinstance(class_idx, (bool, np.bool_)):
        return [check(class_idx)], True
    if isinstance(class_idx, (list, tuple, np.ndarray, torch.Tensor, range)):
        items = list(class_idx.tolist() if hasattr(class_idx, "tolist") else class_idx)
        if not items:
            raise ValueError("class_idx is an empty sequence")
        return [check(i) for i in items], False
    raise TypeError(f"class_idx must be an integer or a sequence of integers, got {type(class_idx).__name__}")


def _many_indices(class_idx) -> np.ndarray | None:
    """Integer class indices as a 1-D int64 array, when they can be checked without a loop; else None."""
    if isinstance(class_idx, range):
        return np.arange(class_idx.start, class_idx.stop, class_idx.step, dtype=np.int64)
    if isinstance(class_idx, torch.Tensor) and class_idx.ndim == 1 and not torch.is_floating_point(class_idx) \
            and class_idx.dtype != torch.bool and not class_idx.is_complex():
        return class_idx.detach().cpu().numpy().astype(np.int64)
    if isinstance(class_idx, np.ndarray) and class_idx.ndim == 1 and class_idx.dtype.kind in "iu":
        return class_idx.astype(np.int64)
    return None


def as_map_array(cam, name: str = "cam") -> np.ndarray:
    """A map as a NumPy array: numbers, shape ``(h, w)`` or ``(n, h, w)``, every value finite.

    Tensors are detached and moved to the CPU; arrays are returned as they are.

    >>> as_map_array(torch.zeros(2, 3)).shape
    (2, 3)

    Raises ``TypeError`` for something that is not an array or tensor of
    numbers, ``ValueError`` for another shape, an empty map, NaN or infinity.
    """
    if isinstance(cam, torch.Tensor):
        cam = cam.detach().cpu().numpy()
    if not isinstance(cam, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(cam).__name__}")
    if cam.dtype == np.bool_ or not np.issubdtype(cam.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {cam.dtype}")
    if cam.ndim not in (2, 3) or 0 in cam.shape:
        raise ValueError(f"{name} must have shape (h, w) or (n, h, w), got {cam.shape}")
    if not np.isfinite(cam).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return cam


# -------------------------------------------------------------- integers, seeds, autograd
def int_at_least(value, name: str, minimum: int) -> int:
    """``value`` as an ``int`` if it is an integer ≥ ``minimum`` (not a bool); else a ``ValueError`` naming ``name``.

    >>> int_at_least(64, "size", 32)
    64
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def seed_int(value, name: str = "seed") -> int:
    """``value`` as an ``int`` seed in ``0 … 2**32 - 1`` (what Python, NumPy and PyTorch all accept).

    Raises ``TypeError`` for a non-integer (or a bool), ``ValueError`` out of range, each naming ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}")
    if not 0 <= value < 2**32:
        raise ValueError(f"{name} must lie between 0 and 2**32 - 1, got {value}")
    return int(value)


def require_grad(what: str) -> None:
    """A ``RuntimeError`` if autograd is off: ``what`` needs gradients, so it cannot run under ``torch.no_grad()``."""
    if not torch.is_grad_enabled():
        raise RuntimeError(f"{what} needs autograd: call it outside torch.no_grad()")


# ----------------------------------------------------------- label images, numbers in a range
def as_segments(segments, name: str = "segments") -> np.ndarray:
    """A label image as a NumPy array: integers, shape ``(H, W)``, not empty.

    >>> as_segments(torch.zeros(2, 3, dtype=torch.int64)).shape
    (2, 3)

    Raises ``TypeError`` for non-integer labels, ``ValueError`` for another shape.
    """
    seg = as_numpy(segments, name)
    if seg.ndim != 2 or 0 in seg.shape:
        raise ValueError(f"{name} must be a 2-D label image (H, W), got shape {seg.shape}")
    if not np.issubdtype(seg.dtype, np.integer):
        raise TypeError(f"{name} must hold integer labels, got dtype {seg.dtype}")
    return seg


def number_in(value, name: str, low: float, high: float = float("inf"), *, above: bool = False) -> float:
    """``value`` as a ``float`` if it is a number from ``low`` (or ``above`` it) to ``high``; else a ``ValueError``.

    >>> number_in(0.5, "alpha", 0, 1)
    0.5
    >>> number_in(0, "compactness", 0, above=True)
    Traceback (most recent call last):
        ...
    ValueError: compactness must be a number > 0, got 0
    """
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if not real or not (low < value if above else low <= value) or not value <= high:
        upper = f" and ≤ {high:g}" if high < float("inf") else ""
        raise ValueError(f"{name} must be a number {'>' if above else '≥'} {low:g}{upper}, got {value!r}")
    return float(value)


# ------------------------------------------- gradient methods: layers, inputs and targets
def module_of(model, layer):
    """The module ``layer`` names: ``None`` (``model.feature_layer``), a dotted name, or a module of ``model``."""
    if layer is None:
        if not hasattr(model, "feature_layer"):
            raise ValueError("this model has no feature_layer: pass layer= explicitly")
        return model.feature_layer
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer)
        except AttributeError:
            names = [n for n, _ in model.named_modules() if n][:8]
            raise ValueError(f"model has no layer named {layer!r}; names look like {names}") from None
    if isinstance(layer, torch.nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ValueError("layer is not a module of this model")
        return layer
    raise TypeError(f"layer must be None, a dotted name or a module of the model, got {type(layer).__name__}")


def model_batch(model, x) -> None:
    """``x`` must be a ``(B, 3, H, W)`` tensor (and pass ``model.check_input`` where the model has one)."""
    if hasattr(model, "check_input"):  # a CamModel: its own checks and messages
        model.check_input(x)
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise TypeError("x must be a (B, 3, H, W) tensor: call model.preprocess(image) first")


def class_per_image(target, logits: torch.Tensor) -> list[int]:
    """One checked class index per image of ``logits`` (``B×classes``); a single index applies to every image."""
    if logits.ndim != 2:
        raise ValueError(f"a class index needs (B, classes) logits, but the model returns shape {tuple(logits.shape)}; "
                         "pass a callable target, e.g. target=lambda out: (out[:, c] * mask).sum()")
    try:
        indices, single = class_indices(target, logits.shape[1])
    except TypeError as error:
        raise TypeError(f"target must be a class index, one per image, or a callable on the output ({error})") from None
    if single:
        return indices * len(logits)
    if len(indices) != len(logits):
        raise ValueError(f"x holds {len(logits)} images but target has {len(indices)} classes; "
                         "give one class per image, or one int for all")
    return indices


def target_scores(scores, batch: int) -> torch.Tensor:
    """What a callable target returned: a finite tensor computed from the output, one score or one per image."""
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"target must return a tensor computed from the model's output, got {type(scores).__name__}")
    if not scores.requires_grad:
        raise ValueError("target returned a tensor with no gradient: compute it from the output (no .detach())")
    if scores.numel() not in (1, batch):
        raise ValueError(f"target returned {scores.numel()} scores for {batch} images: return one, or one per image")
    if not torch.isfinite(scores).all():
        raise ValueError("target returned NaN or infinite scores")
    return scores


def nonzero_gradient(grads: torch.Tensor) -> torch.Tensor:
    """``grads`` (``B×…``) if each image's gradient is nonzero somewhere; else a ``ValueError`` (a blank map)."""
    blank = [b for b, g in enumerate(grads) if not g.any()]
    if blank:
        raise ValueError(f"the target's gradient is zero everywhere for image(s) {blank} (an empty mask?): "
                         "its map would be blank")
    return grads


# ------------------------------------------ metrics: a model in eval mode, one preprocessed image
def eval_model(model) -> None:
    """A ``TypeError`` unless ``model`` is an ``nn.Module``; a ``ValueError`` if its dropout or batch norm trains."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    stochastic = (torch.nn.modules.dropout._DropoutNd, torch.nn.modules.batchnorm._BatchNorm)
    if any(m.training and isinstance(m, stochastic) for m in model.modules()):
        raise ValueError("model is in training mode: its dropout or batch statistics would make every score "
                         "depend on chance or on the batch; call model.eval() first")


def one_image(model, x) -> torch.Tensor:
    """``x`` detached if it is one preprocessed image: a finite float tensor ``(1, 3, H, W)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be the tensor model.preprocess(image) returns, got {type(x).__name__}")
    model_batch(model, x)
    if x.shape[1] != 3 or not torch.is_floating_point(x):
        raise ValueError(f"x must be a float tensor of shape (1, 3, H, W), got {tuple(x.shape)} {x.dtype}")
    if x.shape[0] != 1:
        raise ValueError(f"x holds {x.shape[0]} images; the metrics explain one image at a time: loop over x[i:i+1]")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    return x.detach()
