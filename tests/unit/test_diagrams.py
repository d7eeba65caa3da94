"""The diagrams: drawn by code with the sizes read from the network, so that they stay true."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


def test_cam_pipeline_diagram_reads_its_sizes_from_the_network():
    import matplotlib.pyplot as plt
    import pytest

    from book_tools import resnet50_facts
    from book_tools.diagrams import cam_pipeline_diagram
    from tutorial_utils.smallnets import SmallCamNet

    net = SmallCamNet(3, channels=(8, 8))  # K = 8 maps on a grid half the input's size
    fig = cam_pipeline_diagram(net, input_size=(32, 48))
    ax = fig.axes[0]
    texts = " | ".join(t.get_text() for t in ax.texts)
    for fact in ("K = 8 feature maps", "16 × 24", "3 classes", "input 32 × 48", "3 × 8", "$M_c$"):
        assert fact in texts, (fact, texts)
    # the front feature map and M_c are drawn with their h × w cells: (h - 1) + (w - 1) lines each
    assert len(ax.lines) == 2 * ((16 - 1) + (24 - 1))
    assert "SmallCamNet" in ax.get_title()
    plt.close(fig)

    r50 = resnet50_facts()
    fig = cam_pipeline_diagram(r50)
    texts = " | ".join(t.get_text() for t in fig.axes[0].texts)
    h, w = r50.grid
    assert f"K = {r50.channels:,} feature maps" in texts and f"{h} × {w}" in texts
    assert f"{r50.classes:,} classes" in texts and "ResNet50" in fig.axes[0].get_title()
    plt.close(fig)

    with pytest.raises(ValueError, match="input_size"):
        cam_pipeline_diagram(net)
    with pytest.raises(TypeError, match="CamModel"):
        cam_pipeline_diagram("resnet50")


def test_resnet50_diagram_reads_blocks_channels_and_grids_from_the_network():
    import torch
    import torchvision

    from book_tools.diagrams import resnet50_diagram

    net = torchvision.models.resnet50(weights=None).eval()
    side = torchvision.models.ResNet50_Weights.DEFAULT.transforms().crop_size[0]
    fig = resnet50_diagram(net)
    texts = " | ".join(t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    x = torch.zeros(1, 3, side, side)
    with torch.no_grad():
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        for name in ("layer1", "layer2", "layer3", "layer4"):
            stage = getattr(net, name)
            x = stage(x)
            c, h, w = x.shape[1:]
            assert f"{name}\n{len(stage)} blocks\n{c} ch\n{h}×{w}" in texts, (name, texts)
    assert f"{side}×{side}" in texts and f"{net.fc.in_features}\n→ {net.fc.out_features}" in texts
    block = net.layer2[0]  # the block drawn by default
    for conv in (block.conv1, block.conv2, block.conv3, block.downsample[0]):
        assert f"{conv.in_channels} → {conv.out_channels} ch" in texts, (conv, texts)
    assert "1×1 conv" in texts and "3×3 conv, stride 2" in texts and "projection shortcut" in texts

    # Another network, another picture: ResNet101's layer3 has more blocks, and the labels follow.
    deeper = torchvision.models.resnet101(weights=None)
    fig = resnet50_diagram(deeper, block_stage="layer3", input_size=64)
    texts = " | ".join(t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    assert f"layer3\n{len(deeper.layer3)} blocks" in texts and "64×64" in texts
    assert f"{deeper.layer3[0].conv1.in_channels} → {deeper.layer3[0].conv1.out_channels} ch" in texts
    with pytest.raises(ValueError, match="block_stage"):
        resnet50_diagram(net, block_stage="layer5")



def test_slic_toy_diagram_draws_the_toy_s_own_values():
    import matplotlib.pyplot as plt
    import numpy as np
    import pytest
    from matplotlib.patches import Rectangle

    from book_tools.diagrams import slic_toy_diagram
    from book_tools.diagrams.slic import window_pixels
    from tutorial_utils.slic import SlicTrace, slic_from_scratch

    toy = np.array([[10, 10, 10, 20, 20, 20],
                    [10, 10, 10, 20, 20, 20],
                    [10, 10, 10, 20, 20, 20],
                    [30, 30, 30, 40, 40, 40]])
    trace = SlicTrace(0.0, None, None)
    slic_from_scratch(toy, 4, 10, convert_to_lab=False, trace=trace)
    for centre in range(len(trace.moved_centres)):
        fig = slic_toy_diagram(toy, trace, centre=centre)
        ax = fig.axes[0]
        texts = [t.get_text() for t in ax.texts]
        # every pixel is drawn with its value, and S is the trace's
        assert sorted(t for t in texts if t.isdigit() and int(t) >= 10) == sorted(str(v) for v in toy.ravel())
        assert f"S = {trace.S:g}" in texts
        # the window is a square of side 2S around the chosen centre, and its pixels are counted
        squares = [p for p in ax.patches if isinstance(p, Rectangle) and np.isclose(p.get_width(), 2 * trace.S)
                   and np.isclose(p.get_height(), 2 * trace.S)]
        assert len(squares) == 1
        inside = int(window_pixels(toy.shape, trace.moved_centres[centre], trace.S).sum())
        assert any(f"its {inside} pixels" in t for t in texts) and f"window of centre {centre}" in " ".join(texts)
        plt.close(fig)

    assert int(window_pixels((5, 5), (1, 1), 2.5).sum()) == 16  # rows and columns 0 … 3
    assert int(window_pixels((5, 5), (4, 4), 2.5).sum()) == 9   # rows and columns 2 … 4
    with pytest.raises(ValueError, match="centre"):
        slic_toy_diagram(toy, trace, centre=len(trace.moved_centres))
    with pytest.raises(ValueError, match="empty"):
        slic_toy_diagram(toy, SlicTrace(0.0, None, None))
    with pytest.raises(ValueError, match="grayscale"):
        slic_toy_diagram(np.zeros((4, 4, 3)), trace)
    with pytest.raises(ValueError, match="at most"):
        slic_toy_diagram(np.zeros((20, 20)), trace)


def test_secam_pipeline_diagram_reads_its_sizes_from_the_network_and_the_image():
    import matplotlib.pyplot as plt
    import numpy as np
    import pytest

    from book_tools import NetworkFacts, resnet50_facts
    from book_tools.diagrams import secam_pipeline_diagram

    made_up = NetworkFacts(name="TinyNet", channels=12, grid=(5, 9), input_size=(80, 144), classes=7,
                           parameters=1000)
    fig = secam_pipeline_diagram(made_up, image_size=(30, 50), n_superpixels=17)
    ax = fig.axes[0]
    texts = " | ".join(t.get_text() for t in ax.texts)
    for fact in ("K = 12 maps, 5 × 9", "$M_c$: 5 × 9", "input 80 × 144", "image 30 × 50 × 3",
                 "17 superpixels, 30 × 50", "SeCAM: 17 values", "TinyNet"):
        assert fact in texts, (fact, texts)
    # the front feature map and M_c are drawn with their h × w cells (4 maps stacked, each with lines)
    assert len(ax.lines) == 5 * ((5 - 1) + (9 - 1))
    assert "TinyNet" in ax.get_title()
    plt.close(fig)

    r50 = resnet50_facts()
    image = np.zeros((40, 60, 3), dtype=np.uint8)
    segments = np.repeat(np.arange(6), 400).reshape(40, 60)
    fig = secam_pipeline_diagram(r50, image_size=image.shape[:2], n_superpixels=6, image=image,
                                 segments=segments)
    texts = " | ".join(t.get_text() for t in fig.axes[0].texts)
    h, w = r50.grid
    assert f"K = {r50.channels:,} maps, {h} × {w}" in texts and "ResNet50" in fig.axes[0].get_title()
    assert len(fig.axes[0].images) == 2  # the photo and its superpixels
    plt.close(fig)

    with pytest.raises(TypeError, match="CamModel"):
        secam_pipeline_diagram("resnet50", image_size=(4, 4), n_superpixels=2)
    with pytest.raises(ValueError, match="positive"):
        secam_pipeline_diagram(made_up, image_size=(0, 4), n_superpixels=2)


def test_vit_diagram_reads_grid_tokens_and_blocks_from_the_network():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from book_tools.diagrams import vit_diagram
    from tutorial_utils import TinyViT

    fig = vit_diagram(TinyViT(n_classes=5, image_size=24, patch=4, dim=12, depth=4, heads=3))
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "6 × 6 patches of 4 × 4 pixels" in texts and "37 tokens of 12 numbers" in texts
    assert "4 encoder blocks" in texts and "3 heads" in texts and "5 logits" in texts
    plt.close(fig)
    with pytest.raises(TypeError, match="TinyViT"):
        vit_diagram("vit")
