"""Helpers for *CAM & SeCAM — an executable book*.

The package follows the book's data path, one module per step::

    load_image            RGB uint8 H×W×3                      (images)
    model.preprocess      tensor 1×3×H×W                       (models)
    model.forward_features  logits, feature maps K×h×w         (models)
    class_activation_map  raw M_c, h×w                         (cam)
    upsample              H×W, same units                      (maps)
    superpixels           segments H×W (fast_superpixels)      (slic)
    secam                 per-superpixel mean, H×W             (secam)
    superpixel_means      the means from the grid, by linearity (secam)
    boundary_recall, …    superpixel quality vs true regions   (superpixel_metrics)
    lime_map              LIME's weights on the superpixels    (lime_baseline)
    normalise             [0, 1] map                           (maps)
    cam_box, box_iou      a box from a map, scored by IoU      (localisation)
    set_seed              one seed per chapter, CAM_BOOK_SEED  (seeding)
    deletion_curve, …     faithfulness and sanity checks       (metrics)
    sanity_verdict, …     the sanity check's judge             (sanity)
    overlay, plot_top_k   figures                              (viz)
    SecamExplorer         all of it, interactive (JupyterLab)  (widgets)
    web_explorer          the same, precomputed for the website (web_explorer)

Notebooks import from here (``from tutorial_utils import load_model``) and
never from the modules' private helpers.
"""

from .cam import class_activation_map
from .exercises import (
    EXERCISES,
    CheckResult,
    ExerciseFailed,
    check_ascent_step,
    check_average_drop,
    check_batch_cam,
    check_cam,
    check_cam_flops,
    check_channel_objective,
    check_deconv_relu_grad,
    check_grad_cam,
    check_guided_relu_grad,
    check_head,
    check_head_grad_cam,
    check_mask_secam,
    check_mass_share,
    check_occlusion_passes,
    check_pointing_game,
    check_preprocess,
    check_rank_correlation,
    check_receptive_field,
    check_roi_target,
    check_secam,
    check_seg_target,
    check_slic_assign,
    check_slic_distances,
    check_unnormalise,
    grade,
)
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
    seg_grad_cam,
    seg_hires_cam,
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
from .model_facts import NetworkFacts, model_note, network_facts, resnet50_facts
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
from .predict import PredictionCheck, check_prediction
from .progress import PROGRESS_ENV, progress
from .sanity import SANITY_BAR, SANITY_STATISTICS, Similarity, map_similarity, randomisation_similarity, sanity_verdict
from .secam import clear_superpixel_cache, secam, superpixel_means
from .seeding import SEED_ENV, book_seed, set_seed
from .shapes import SHAPE_CLASSES, shapes_dataset, shapes_scene
from .shortcut import MARKER_SETTINGS, SHORTCUT_CLASSES, ShortcutData, shortcut_dataset
from .smallnets import SmallCamNet, conv_block, images_to_tensor, predict_classes, train_classifier
from .slic import FAST_SLIC, SlicTrace, fast_superpixels, slic_from_scratch, superpixels
from .superpixel_metrics import BOUNDARY_TOLERANCE, boundary_recall, undersegmentation_error
from .viz import DEFAULT_CMAP, gradient_image, overlay, plot_top_k, png_img_tag
from .weights import CorruptWeightsError, cached_weights_path, fetch_resnet50_weights, load_pretrained
from .widgets import DIMMED, SecamExplorer
from .web_explorer import WEB_SETTINGS, WebExplorer, web_explorer

__all__ = [
    "BASELINES",
    "SANITY_BAR",
    "SANITY_STATISTICS",
    "Similarity",
    "BOUNDARY_TOLERANCE",
    "CHOICES",
    "DEFAULT_CMAP",
    "DIMMED",
    "FAST_SLIC",
    "EXERCISES",
    "MARKER_SETTINGS",
    "MAX_PIXELS",
    "MODEL_ENV",
    "NORMALISATIONS",
    "PROGRESS_ENV",
    "SEED_ENV",
    "SHAPE_CLASSES",
    "SHORTCUT_CLASSES",
    "CamModel",
    "CheckResult",
    "CorruptWeightsError",
    "Curve",
    "ExerciseFailed",
    "FeatureVisResult",
    "GapLinearHead",
    "NetworkFacts",
    "Objective",
    "GuidedBackprop",
    "GuidedReLUFunction",
    "ImageLoadError",
    "LayerCapture",
    "Prediction",
    "PredictionCheck",
    "SecamExplorer",
    "ShortcutData",
    "SlicTrace",
    "SmallCamNet",
    "WEB_SETTINGS",
    "WebExplorer",
    "WeightsUnavailableError",
    "activation_maximisation",
    "as_rgb_uint8",
    "ascent_step",
    "auc",
    "average_drop",
    "book_seed",
    "boundary_recall",
    "box_iou",
    "cached_weights_path",
    "cam_box",
    "cascading_randomisation",
    "centre_box",
    "channel_objective",
    "check_ascent_step",
    "check_average_drop",
    "check_batch_cam",
    "check_cam",
    "check_cam_flops",
    "check_channel_objective",
    "check_deconv_relu_grad",
    "check_grad_cam",
    "check_guided_relu_grad",
    "check_head",
    "check_head_grad_cam",
    "check_mask_secam",
    "check_mass_share",
    "check_occlusion_passes",
    "check_pointing_game",
    "check_prediction",
    "check_preprocess",
    "check_rank_correlation",
    "check_receptive_field",
    "check_roi_target",
    "check_secam",
    "check_seg_target",
    "check_slic_assign",
    "check_slic_distances",
    "check_unnormalise",
    "class_activation_map",
    "class_objective",
    "clear_superpixel_cache",
    "conv_block",
    "deletion_curve",
    "explanation_map",
    "fast_superpixels",
    "fetch_resnet50_weights",
    "grad_cam",
    "grade",
    "gradient_image",
    "guided_backprop",
    "guided_grad_cam",
    "hires_cam",
    "images_to_tensor",
    "increase_in_confidence",
    "interpolation_matrix",
    "insertion_curve",
    "lime_classifier",
    "lime_map",
    "load_image",
    "load_model",
    "map_similarity",
    "model_note",
    "network_facts",
    "neuron_objective",
    "load_pretrained",
    "normalise",
    "overlay",
    "plot_top_k",
    "png_img_tag",
    "positive_mass_share",
    "predict_classes",
    "progress",
    "randomisation_order",
    "randomisation_similarity",
    "rank_correlation",
    "resnet50_facts",
    "resnet50_weights_path",
    "sample_image_names",
    "sanity_verdict",
    "secam",
    "seg_grad_cam",
    "seg_hires_cam",
    "set_seed",
    "shapes_dataset",
    "shapes_scene",
    "shortcut_dataset",
    "slic_from_scratch",
    "square_crop",
    "superpixel_means",
    "superpixels",
    "threshold_mask",
    "train_classifier",
    "undersegmentation_error",
    "upsample",
    "web_explorer",
]

__version__ = "0.1.0"
