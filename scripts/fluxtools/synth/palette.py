"""Vocabulary of the synthetic world: colours, shapes, sizes and backgrounds, with their words."""

import numpy as np

# Saturated object colours, far apart so that a colour name is never in doubt.
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 225),
    "yellow": (240, 210, 40),
    "purple": (145, 60, 190),
    "orange": (245, 140, 30),
    "white": (245, 245, 245),
    "black": (25, 25, 25),
}

SHAPES = ("circle", "square", "triangle", "star", "cross")

# Radius as a fraction of the canvas side (224 px: 12, 19, 28 px).
SIZES = {"small": 0.055, "medium": 0.085, "large": 0.125}
SIZE_ORDER = ("small", "medium", "large")

# Shape extent relative to its radius (how far the outline reaches from the centre).
EXTENT = {"circle": 1.0, "square": 1.2, "triangle": 1.25, "star": 1.3, "cross": 1.05}

# Muted background colours, so saturated objects stand out on every texture.
BG_COLOURS = {
    "grey": (125, 125, 125),
    "beige": (205, 190, 155),
    "light blue": (150, 180, 215),
    "pale green": (165, 195, 155),
    "dark grey": (55, 58, 64),
}

PATTERNS = ("plain", "striped", "checkered", "dotted", "gradient", "grainy")

# Brightness swing of a texture around its base colour.
TEXTURE_AMPLITUDE = 0.15
# Minimum RGB distance between an object colour and any shade of the background.
MIN_CONTRAST = 75.0


def background_phrase(pattern, colour):
    """Words for a background, e.g. 'a plain grey background', 'a beige checkered background'."""
    if pattern == "plain":
        return f"a plain {colour} background"
    if pattern == "grainy":
        return f"a grainy {colour} background"
    return f"a {colour} {pattern} background"


def allowed_colours(bg_colour, pattern):
    """Object colours that contrast with every shade of this background."""
    base = np.array(BG_COLOURS[bg_colour], dtype=np.float64)
    amp = 0.0 if pattern == "plain" else TEXTURE_AMPLITUDE * (2.0 if pattern == "gradient" else 1.0)
    shades = [np.clip(base * (1 + s), 0, 255) for s in (-amp, 0.0, amp)]
    out = []
    for name, rgb in COLOURS.items():
        c = np.array(rgb, dtype=np.float64)
        if min(np.linalg.norm(c - s) for s in shades) >= MIN_CONTRAST:
            out.append(name)
    return out
