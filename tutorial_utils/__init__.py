"""Helpers for *CAM & SeCAM — an executable book*.

The package follows the book's data path, one module per step::

    load_image            RGB uint8 H×W×3                      (images)
    model.preprocess      tensor 1×3×H×W                       (models)
    model.forward_features  logits, feature maps K×h×w         (models)
    class_activation_map  raw M_c, h×w                         (cam)
    upsample              H×W, same units                      (maps)
    superpixels           segments H×W (fast_superpixels)      (slic)
    secam                 per-superpixel mean, H×W             (secam)
    superpixel_means      the means from the grid, by linearity (secam; fast: secam_fast)
    boundary_recall, …    superpixel quality vs true regions   (superpixel_metrics)
    lime_map              LIME's weights on the superpixels    (lime_baseline)
    normalise             [0, 1] map                           (maps)
    cam_box, box_iou      a box from a map, scored by IoU      (localisation)
    set_seed              one seed per chapter, CAM_BOOK_SEED  (seeding)
    deletion_curve, …     faithfulness and sanity checks       (metrics)
    sanity_verdict, …     the sanity check's judge             (sanity)
    TinyViT, tokens_to_grid, attention_rollout   a vision transformer and its maps (vit)
    show_maps, overlay    figures                              (viz)

Notebooks import from here (``from tutorial_utils import load_model``) and
never from the modules' private helpers. What serves the book rather than the
lesson — the exercises and their grader, the diagrams, the explorer widget and
its website version, the weights download, the model notes, progress reports —
is in the package ``book_tools``, which this one never imports.
"""

from .cam import class_activation_map
from .featurevis import (
    FeatureVisResult,
    Objective,
    activation_maximisation,
    ascent_step,
    channel_objective,
    class_objective,
    neuron_objective,
)
from .gradients import (
    GuidedBackprop,
    GuidedReLUFunction,
    LayerCapture,
    grad_cam,
    guided_backprop,
    guided_grad_cam,
    hires_cam,
)
from .maps import NORMALISATIONS, interpolation_matrix, normalise, positive_mass_share, threshold_mask, upsample
from .lime_baseline import lime_classifier, lime_map
from .localisation import box_iou, cam_box, centre_box
from .images import ImageLoadError, MAX_PIXELS, as_rgb_uint8, load_image, sample_image_names, square_crop
from .metrics import (
    BASELINES,
    Curve,
    auc,
    average_drop,
    cascading_randomisation,
    deletion_curve,
    explanation_map,
    increase_in_confidence,
    insertion_curve,
    randomisation_order,
    rank_correlation,
)
from .models import (
    CHOICES,
    MODEL_ENV,
    CamModel,
    GapLinearHead,
    Prediction,
    WeightsUnavailableError,
    load_model,
    resnet50_weights_path,
)
from .sanity import SANITY_BAR, SANITY_STATISTICS, Similarity, map_similarity, randomisation_similarity, sanity_verdict
from .secam import secam, superpixel_means
from .secam_fast import clear_superpixel_cache
from .seeding import SEED_ENV, book_seed, set_seed
from .shapes import SHAPE_CLASSES, shapes_dataset, shapes_scene
from .shortcut import MARKER_SETTINGS, SHORTCUT_CLASSES, ShortcutData, shortcut_dataset
from .smallnets import SmallCamNet, conv_block, images_to_tensor, predict_classes, recompute_batchnorm, train_classifier
from .slic import FAST_SLIC, SlicTrace, fast_superpixels, slic_from_scratch, superpixels
from .superpixel_metrics import BOUNDARY_TOLERANCE, boundary_recall, undersegmentation_error
from .vit import Attention, EncoderBlock, TinyViT, attention_rollout, tokens_to_grid
from .viz import DEFAULT_CMAP, gradient_image, overlay, plot_top_k, png_img_tag, show_maps

__all__ = [
    "activation_maximisation", "as_rgb_uint8", "Attention", "attention_rollout", "ascent_step", "auc",
    "average_drop", "BASELINES", "book_seed",
    "boundary_recall", "BOUNDARY_TOLERANCE", "box_iou", "cam_box", "CamModel", "cascading_randomisation",
    "centre_box", "channel_objective", "CHOICES", "class_activation_map", "class_objective",
    "clear_superpixel_cache", "conv_block", "Curve", "DEFAULT_CMAP", "deletion_curve", "EncoderBlock",
    "explanation_map",
    "FAST_SLIC", "fast_superpixels", "FeatureVisResult", "GapLinearHead", "grad_cam", "gradient_image",
    "guided_backprop", "guided_grad_cam", "GuidedBackprop", "GuidedReLUFunction", "hires_cam", "ImageLoadError",
    "images_to_tensor", "increase_in_confidence", "insertion_curve", "interpolation_matrix", "LayerCapture",
    "lime_classifier", "lime_map", "load_image", "load_model", "map_similarity", "MARKER_SETTINGS",
    "MAX_PIXELS", "MODEL_ENV", "neuron_objective", "NORMALISATIONS", "normalise", "Objective", "overlay",
    "plot_top_k", "png_img_tag", "positive_mass_share", "predict_classes", "Prediction", "randomisation_order",
    "randomisation_similarity", "rank_correlation", "recompute_batchnorm", "resnet50_weights_path", "sample_image_names", "SANITY_BAR",
    "SANITY_STATISTICS", "sanity_verdict", "secam", "SEED_ENV", "set_seed", "SHAPE_CLASSES", "shapes_dataset",
    "shapes_scene", "SHORTCUT_CLASSES", "shortcut_dataset", "ShortcutData", "show_maps", "Similarity",
    "slic_from_scratch", "SlicTrace", "SmallCamNet", "square_crop", "superpixel_means", "superpixels",
    "threshold_mask", "TinyViT", "tokens_to_grid", "train_classifier", "undersegmentation_error", "upsample",
    "WeightsUnavailableError",
]

__version__ = "0.1.0"
