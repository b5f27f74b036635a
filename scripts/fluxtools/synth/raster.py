"""Anti-aliased rendering of shapes over textured backgrounds, with numpy only.

Each shape is a signed distance field evaluated at pixel centres; coverage is
clip(0.5 - distance, 0, 1), which gives a one-pixel anti-aliased edge.
"""

from functools import lru_cache

import numpy as np

from .palette import BG_COLOURS, COLOURS, EXTENT, TEXTURE_AMPLITUDE


def _star(points, inner):
    ang = np.pi / 2 + np.arange(2 * points) * np.pi / points
    rad = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return np.stack([rad * np.cos(ang), -rad * np.sin(ang)], axis=1)


def _regular(n, phase):
    ang = phase + np.arange(n) * 2 * np.pi / n
    return np.stack([np.cos(ang), -np.sin(ang)], axis=1)


def _cross(arm, half):
    a, h = arm, half
    return np.array([(-h, -a), (h, -a), (h, -h), (a, -h), (a, h), (h, h),
                     (h, a), (-h, a), (-h, h), (-a, h), (-a, -h), (-h, -h)], dtype=np.float64)


# Unit outlines (radius 1 = the object's nominal radius), y pointing down.
_OUTLINES = {
    "square": _regular(4, np.pi / 4) * EXTENT["square"],
    "triangle": _regular(3, np.pi / 2) * EXTENT["triangle"],
    "star": _star(5, 0.45) * EXTENT["star"],
    "cross": _cross(EXTENT["cross"], 0.36),
}


def reach(shape, radius, ux, uy):
    """How far an unrotated shape extends from its centre along the unit direction (ux, uy)."""
    if shape == "circle":
        return radius
    o = _OUTLINES[shape]
    return radius * float(np.max(o[:, 0] * ux + o[:, 1] * uy))


def _polygon_sdf(px, py, vx, vy):
    """Signed distance from points (M,) to a closed polygon (N,): negative inside."""
    ex = np.roll(vx, -1) - vx
    ey = np.roll(vy, -1) - vy
    wx = px[:, None] - vx[None, :]
    wy = py[:, None] - vy[None, :]
    t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    bx = wx - ex * t
    by = wy - ey * t
    dist = np.sqrt(np.min(bx * bx + by * by, axis=1))
    c1 = py[:, None] >= vy[None, :]
    c2 = py[:, None] < np.roll(vy, -1)[None, :]
    c3 = ex * wy > ey * wx
    flips = (c1 & c2 & c3) | (~c1 & ~c2 & ~c3)
    inside = (np.count_nonzero(flips, axis=1) % 2) == 1
    return np.where(inside, -dist, dist)


@lru_cache(maxsize=8192)
def _sprite(shape, radius_q, angle_q, fx_q, fy_q):
    """Coverage mask of a shape whose centre lies at (fx, fy) inside pixel (0, 0) of the
    sprite's centre cell; quantised arguments make the cache effective for moving objects."""
    radius = radius_q / 4.0
    fx, fy = fx_q / 4.0, fy_q / 4.0
    half = int(np.ceil(radius * 1.35)) + 2
    ys, xs = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    px = (xs + 0.5 - fx).ravel()
    py = (ys + 0.5 - fy).ravel()
    if shape == "circle":
        sdf = np.sqrt(px * px + py * py) - radius
    else:
        a = np.deg2rad(angle_q)
        ca, sa = np.cos(a), np.sin(a)
        o = _OUTLINES[shape] * radius
        vx = o[:, 0] * ca - o[:, 1] * sa
        vy = o[:, 0] * sa + o[:, 1] * ca
        sdf = _polygon_sdf(px, py, vx, vy)
    cov = np.clip(0.5 - sdf, 0.0, 1.0).reshape(ys.shape).astype(np.float32)
    return cov, half


def draw_shape(img, shape, cx, cy, radius, angle_deg, rgb, alpha):
    """Composite one shape onto a float32 HxWx3 image in place."""
    if alpha <= 0.0 or radius <= 0.5:
        return
    ix, iy = int(np.floor(cx)), int(np.floor(cy))
    cov, half = _sprite(shape, int(round(radius * 4)), int(round(angle_deg)) % 360,
                        int(round((cx - ix) * 4)) % 4, int(round((cy - iy) * 4)) % 4)
    h, w = img.shape[:2]
    x0, y0 = ix - half, iy - half
    sx0, sy0 = max(0, -x0), max(0, -y0)
    x1, y1 = min(w, x0 + cov.shape[1]), min(h, y0 + cov.shape[0])
    if x1 <= max(x0, 0) or y1 <= max(y0, 0):
        return
    a = cov[sy0:sy0 + (y1 - max(y0, 0)), sx0:sx0 + (x1 - max(x0, 0))] * np.float32(alpha)
    region = img[max(y0, 0):y1, max(x0, 0):x1]
    region += (np.asarray(rgb, dtype=np.float32) - region) * a[..., None]


def background_image(rng, size, pattern, colour):
    """A static background texture: the base colour modulated by a pattern."""
    base = np.array(BG_COLOURS[colour], dtype=np.float32)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    amp = TEXTURE_AMPLITUDE
    if pattern == "plain":
        mod = np.zeros((size, size), np.float32)
    elif pattern == "striped":
        period = size / rng.uniform(6, 10)
        theta = rng.choice([0.0, 90.0, 45.0, 135.0]) * np.pi / 180
        u = xs * np.cos(theta) + ys * np.sin(theta)
        mod = np.clip(np.sin(2 * np.pi * u / period) * 3.0, -1, 1)
    elif pattern == "checkered":
        cell = size / rng.integers(5, 9)
        mod = np.where(((xs // cell + ys // cell) % 2) == 0, 1.0, -1.0).astype(np.float32)
    elif pattern == "dotted":
        cell = size / rng.integers(7, 11)
        dx = (xs % cell) - cell / 2
        dy = (ys % cell) - cell / 2
        mod = np.clip(cell * 0.2 - np.sqrt(dx * dx + dy * dy) + 0.5, 0, 1) * 2 - 1
    elif pattern == "gradient":
        theta = rng.uniform(0, 2 * np.pi)
        u = ((xs - size / 2) * np.cos(theta) + (ys - size / 2) * np.sin(theta)) / (size / 2)
        mod = np.clip(u, -1, 1) * 2.0
    elif pattern == "grainy":
        coarse = rng.uniform(-1, 1, (size // 8 + 2, size // 8 + 2)).astype(np.float32)
        fine = np.kron(coarse, np.ones((8, 8), np.float32))[:size, :size]
        mod = np.clip(fine + rng.uniform(-0.5, 0.5, (size, size)).astype(np.float32), -1, 1)
    else:
        raise ValueError(f"unknown background pattern {pattern!r}")
    img = base[None, None, :] * (1.0 + amp * mod[..., None])
    return np.clip(img, 0, 255).astype(np.float32)


def render(scene):
    """All frames of a scene as uint8 [T, H, W, 3]."""
    out = np.empty((scene.T, scene.S, scene.S, 3), np.uint8)
    for f in range(scene.T):
        img = scene.bg_images[scene.bg_index[f]].copy()
        for ob in scene.objects:
            if ob.alpha[f] > 0:
                draw_shape(img, ob.shape, ob.x[f], ob.y[f], ob.radius * ob.scale[f],
                           ob.angle[f], COLOURS[ob.colours[f]], ob.alpha[f])
        np.clip(img + 0.5, 0, 255, out=img)
        out[f] = img.astype(np.uint8)
    return out
