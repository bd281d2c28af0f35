"""ImageRecordIter's default augmenter (MXNet 1.9.1's `aug_default`), on the host: an (H, W, 3|1) uint8 RGB
image through resize, affine warp (rotate, shear, random scale and aspect), pad, crops, colour jitter, HLS
jitter and PCA noise, in MXNet's order and arithmetic. Resizing is OpenCV's cv::resize in NumPy (what mx.image's
resize operator runs) and warping OpenCV's warpAffine in NumPy; random draws come from the NumPy generator the iterator
gives each record."""
import math

import numpy as np

from ..base import MXNetError
from ..image.image import resize_array
from ..ops._cv_resize import _cubic_weights, _lanczos4_weights

# MXNet's default augmentation arguments: name -> (kind, default)
AUG_PARAMS = {
    "resize": (int, -1), "rand_crop": (bool, False), "random_resized_crop": (bool, False),
    "max_rotate_angle": (int, 0), "max_aspect_ratio": (float, 0.0), "min_aspect_ratio": (float, "None"),
    "max_shear_ratio": (float, 0.0), "max_crop_size": (int, -1), "min_crop_size": (int, -1),
    "max_random_scale": (float, 1.0), "min_random_scale": (float, 1.0), "max_random_area": (float, 1.0),
    "min_random_area": (float, 1.0), "max_img_size": (float, 1e10), "min_img_size": (float, 0.0),
    "brightness": (float, 0.0), "contrast": (float, 0.0), "saturation": (float, 0.0), "pca_noise": (float, 0.0),
    "random_h": (int, 0), "random_s": (int, 0), "random_l": (int, 0), "rotate": (int, -1),
    "fill_value": (int, 255), "inter_method": (int, 1), "pad": (int, 0)}

# MXNet's PCA lighting basis (eigenvalue * eigenvector rows, for R, G, B)
_EIGVEC = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                    [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                    [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]], np.float32)


def _interp(code, old_w, old_h, new_w, new_h, rng):
    """MXNet's GetInterMethod: 9 picks by direction (cubic enlarging, area shrinking), 10 at random."""
    if code == 9:
        if new_w > old_w and new_h > old_h:
            return 2
        return 3 if new_w < old_w and new_h < old_h else 1
    return int(rng.integers(0, 5)) if code == 10 else code


def _gray(img):
    """OpenCV's fixed-point RGB->gray as MXNet applies it to its BGR images, so blue takes red's weight."""
    rgb = img.astype(np.int32)
    return (rgb[:, :, 2] * 4899 + rgb[:, :, 1] * 9617 + rgb[:, :, 0] * 1868 + 8192) >> 14


def _saturate(values):
    """OpenCV's saturate_cast<uchar>: round half to even, clip to [0, 255]."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


class DefaultAugmenter:
    """`aug_default` with MXNet's arguments `p` (AUG_PARAMS plus data_shape and rotate_list)."""

    def __init__(self, p, iterator):
        self.p = p
        self.shape = p["data_shape"]
        if p["min_aspect_ratio"] == "None":
            self.aspect = (1 - p["max_aspect_ratio"], 1 + p["max_aspect_ratio"])
        else:
            self.aspect = (p["min_aspect_ratio"], p["max_aspect_ratio"])
        self.rotate_list = p["rotate_list"]
        inter = p["inter_method"]
        if not (0 <= inter <= 4 or inter in (9, 10)):
            raise MXNetError(f"{iterator}: invalid inter_method {inter}: valid values are 0-4, 9, 10")
        self.warps = (p["max_rotate_angle"] > 0 or p["max_shear_ratio"] > 0 or p["rotate"] > 0 or self.rotate_list
                      or p["max_random_scale"] != 1 or p["min_random_scale"] != 1
                      or (not p["random_resized_crop"] and self.aspect != (1.0, 1.0))
                      or p["max_img_size"] != 1e10 or p["min_img_size"] != 0)
        if self.warps and inter == 0:
            raise MXNetError(f"{iterator}: inter_method 0 is not valid with rotation, shear or random scale "
                             "(valid values 1-4, 9, 10)")
        if p["random_resized_crop"] and (p["min_random_scale"] != 1 or p["max_random_scale"] != 1
                                         or p["min_crop_size"] != -1 or p["max_crop_size"] != -1 or p["rand_crop"]):
            raise MXNetError(f"{iterator}: random_resized_crop conflicts with min_random_scale, max_random_scale, "
                             "min_crop_size, max_crop_size and rand_crop")

    def __call__(self, img, rng):
        p = self.p
        if p["resize"] != -1:
            rows, cols = img.shape[:2]
            if rows > cols:
                size = (p["resize"], p["resize"] * rows // cols)
            else:
                size = (p["resize"] * cols // rows, p["resize"])
            img = resize_array(img, *size, _interp(p["inter_method"], cols, rows, *size, rng))
        if self.warps:
            img = self._warp(img, rng)
        if p["pad"] > 0:
            pad = p["pad"]
            img = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), constant_values=p["fill_value"])
        img = self._crop(img, rng)
        if p["brightness"] > 0 or p["contrast"] > 0 or p["saturation"] > 0:
            img = self._color_jitter(img, rng)
        if p["random_h"] or p["random_s"] or p["random_l"]:
            img = self._hls_jitter(img, rng)
        if p["pca_noise"] > 0:
            alpha = rng.normal(0, p["pca_noise"], 3).astype(np.float32)
            # MXNet adds the float shift to the int pixel, truncating the sum
            img = np.clip(np.trunc(img + (_EIGVEC @ alpha)), 0, 255).astype(np.uint8)
        return img

    def _warp(self, img, rng):
        """Rotation, shear, scale and aspect change as one affine map about the centre (MXNet's matrix)."""
        p = self.p
        shear = rng.random() * p["max_shear_ratio"] * 2 - p["max_shear_ratio"]
        angle = int(rng.integers(-p["max_rotate_angle"], p["max_rotate_angle"] + 1))
        if p["rotate"] > 0:
            angle = p["rotate"]
        if self.rotate_list:
            angle = self.rotate_list[int(rng.integers(0, len(self.rotate_list)))]
        f32 = np.float32  # MXNet computes the matrix in float
        a, b = f32(math.cos(angle / 180.0 * math.pi)), f32(math.sin(angle / 180.0 * math.pi))
        scale = ratio = f32(1)
        if not p["random_resized_crop"]:
            scale = f32(rng.random()) * f32(p["max_random_scale"] - p["min_random_scale"]) + f32(p["min_random_scale"])
            ratio = f32(rng.random()) * f32(self.aspect[1] - self.aspect[0]) + f32(self.aspect[0])
        shear = f32(shear)
        hs = f32(2) * scale / (f32(1) + ratio)
        ws = ratio * hs
        rows, cols = img.shape[:2]
        width = max(f32(p["min_img_size"]), min(f32(p["max_img_size"]), scale * f32(cols)))
        height = max(f32(p["min_img_size"]), min(f32(p["max_img_size"]), scale * f32(rows)))
        m00, m01 = hs * a - shear * b * ws, hs * b + shear * a * ws
        m10, m11 = -b * ws, a * ws
        matrix = np.array([[m00, m01, (width - (m00 * f32(cols) + m01 * f32(rows))) / f32(2)],
                           [m10, m11, (height - (m10 * f32(cols) + m11 * f32(rows))) / f32(2)]], np.float32)
        new_w, new_h = int(width), int(height)
        interp = _interp(p["inter_method"], cols, rows, new_w, new_h, rng)
        return warp_affine(img, matrix, new_w, new_h, interp, p["fill_value"])

    def _crop(self, img, rng):
        p, (_, out_h, out_w) = self.p, self.shape
        rows, cols = img.shape[:2]
        if p["random_resized_crop"]:
            if p["max_random_area"] != 1 or p["min_random_area"] != 1 or self.aspect != (1.0, 1.0):
                area = rows * cols
                for _ in range(10):
                    target = area * rng.uniform(p["min_random_area"], p["max_random_area"])
                    ratio = rng.uniform(*self.aspect)
                    y_area = math.floor(math.sqrt(target / ratio) + 0.5)  # std::round: halves away from 0
                    x_area = math.floor(math.sqrt(target * ratio) + 0.5)
                    if rng.random() > 0.5:
                        y_area, x_area = x_area, y_area
                    if y_area <= rows and x_area <= cols:
                        y = int(rng.integers(0, rows - y_area + 1))
                        x = int(rng.integers(0, cols - x_area + 1))
                        interp = _interp(p["inter_method"], x_area, y_area, out_w, out_h, rng)
                        return resize_array(img[y:y + y_area, x:x + x_area], out_w, out_h, interp)
        elif p["max_crop_size"] != -1 or p["min_crop_size"] != -1:
            if not (cols >= p["max_crop_size"] and rows >= p["max_crop_size"]
                    and p["max_crop_size"] >= p["min_crop_size"]):
                raise MXNetError(f"image of {cols}x{rows} is smaller than max_crop_size {p['max_crop_size']}")
            size = int(rng.integers(p["min_crop_size"], p["max_crop_size"] + 1))
            y, x = rows - size, cols - size
            if p["rand_crop"]:
                y, x = int(rng.integers(0, y + 1)), int(rng.integers(0, x + 1))
            else:
                y, x = y // 2, x // 2
            interp = _interp(p["inter_method"], size, size, out_w, out_h, rng)
            return resize_array(img[y:y + size, x:x + size], out_w, out_h, interp)
        return self._centre_crop(img, rng)

    def _centre_crop(self, img, rng):
        """The data_shape window, centred or (rand_crop) anywhere; a smaller image is enlarged to cover it."""
        p, (_, out_h, out_w) = self.p, self.shape
        rows, cols = img.shape[:2]
        interp = _interp(p["inter_method"], cols, rows, out_w, out_h, rng)
        if rows < out_h:
            cols, rows = int(np.float32(out_h) / np.float32(rows) * np.float32(cols)), out_h
            img = resize_array(img, cols, rows, interp)
        if cols < out_w:
            cols, rows = out_w, int(np.float32(out_w) / np.float32(cols) * np.float32(rows))
            img = resize_array(img, cols, rows, interp)
        if rows < out_h or cols < out_w:
            raise MXNetError(f"image of {cols}x{rows} is smaller than data_shape {self.shape}")
        y, x = rows - out_h, cols - out_w
        if p["rand_crop"]:
            y, x = int(rng.integers(0, y + 1)), int(rng.integers(0, x + 1))
        else:
            y, x = y // 2, x // 2
        return img[y:y + out_h, x:x + out_w]

    def _color_jitter(self, img, rng):
        """Brightness, contrast and saturation in a random order, each rounded to uint8 as OpenCV does."""
        p = self.p
        alpha_b = 1.0 + rng.uniform(-p["brightness"], p["brightness"])
        alpha_c = 1.0 + rng.uniform(-p["contrast"], p["contrast"])
        alpha_s = 1.0 + rng.uniform(-p["saturation"], p["saturation"])
        for step in rng.permutation(3):
            values = img.astype(np.float32)
            if step == 0:
                img = _saturate(values * alpha_b)
            elif step == 1:
                mean = float(_gray(img).mean())
                img = _saturate(values * alpha_c + (1 - alpha_c) * mean)
            else:
                gray = _gray(img).astype(np.float32)[:, :, None]
                img = _saturate(values * alpha_s + gray * (1 - alpha_s))
        return img

    def _hls_jitter(self, img, rng):
        """Shift hue, lightness and saturation in OpenCV's 8-bit HLS (H in [0, 180], L and S in [0, 255])."""
        p = self.p
        shifts = []
        for name in ("random_h", "random_s", "random_l"):
            r = (rng.random() + 4 * rng.random()) / 5  # MXNet's bell-shaped draw in [0, 1]
            shifts.append(int(r * p[name] * 2 - p[name]))
        h_shift, s_shift, l_shift = shifts
        hue, light, sat = rgb_to_hls8(img)
        hue = np.clip(hue + h_shift, 0, 180)
        light = np.clip(light + l_shift, 0, 255)
        sat = np.clip(sat + s_shift, 0, 255)
        return hls8_to_rgb(hue, light, sat)


def warp_affine(img, matrix, new_w, new_h, interp, fill):
    """cv2.warpAffine(img, matrix, (new_w, new_h), interp, BORDER_CONSTANT, fill) on a uint8 (H, W, C) image,
    with OpenCV's arithmetic: the inverse map in double, source positions in fixed point with 1/32 pixel
    steps, and 15-bit integer tap weights (nearest, bilinear, bicubic, Lanczos-4; area is bilinear there)."""
    m = matrix.astype(np.float64)
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    det = 1.0 / det if det != 0 else 0.0
    inv = np.array([[m[1, 1] * det, -m[0, 1] * det], [-m[1, 0] * det, m[0, 0] * det]])
    shift = -inv @ m[:, 2]
    nearest = interp == 0
    cols, rows = np.arange(new_w), np.arange(new_h)
    # positions in 1/1024 pixel, rounded as OpenCV's saturate_cast<int>, plus its rounding offset
    x_pos = (np.rint((inv[0, 1] * rows + shift[0]) * _AB_SCALE) + (512 if nearest else 16))[:, None] \
        + np.rint(inv[0, 0] * cols * _AB_SCALE)[None, :]
    y_pos = (np.rint((inv[1, 1] * rows + shift[1]) * _AB_SCALE) + (512 if nearest else 16))[:, None] \
        + np.rint(inv[1, 0] * cols * _AB_SCALE)[None, :]
    x_pos, y_pos = x_pos.astype(np.int64), y_pos.astype(np.int64)
    if nearest:
        return _gather(img, y_pos >> 10, x_pos >> 10, fill)
    x_pos, y_pos = x_pos >> 5, y_pos >> 5  # 1/32 pixel
    table = _remap_table(_WARP_KERNEL[interp])
    taps = table.shape[-1]
    weights = table[y_pos & 31, x_pos & 31]  # (new_h, new_w, taps, taps)
    top, left = (y_pos >> 5) - (taps // 2 - 1), (x_pos >> 5) - (taps // 2 - 1)
    total = np.zeros((new_h, new_w, img.shape[2]), np.int64)
    for i in range(taps):
        for j in range(taps):
            total += weights[:, :, i, j, None] * _gather(img, top + i, left + j, fill)
    return np.clip((total + (1 << 14)) >> 15, 0, 255).astype(np.uint8)


_AB_SCALE = 1024
_WARP_KERNEL = {1: "linear", 2: "cubic", 3: "linear", 4: "lanczos4"}
_REMAP_TABLES = {}


def _gather(img, rows, cols, fill):
    """img[rows, cols] as int64, with `fill` where the position is outside the image."""
    inside = (rows >= 0) & (rows < img.shape[0]) & (cols >= 0) & (cols < img.shape[1])
    values = img[np.clip(rows, 0, img.shape[0] - 1), np.clip(cols, 0, img.shape[1] - 1)].astype(np.int64)
    values[~inside] = fill
    return values


def _remap_table(kind):
    """OpenCV's 2-D integer remap weights for each (y, x) fraction in 1/32 steps: (32, 32, taps, taps), each
    product of the 1-D float32 weights scaled by 2^15 and rounded, with the rounding error of the sum put
    on the largest (or smallest) of the central weights."""
    if kind not in _REMAP_TABLES:
        frac = np.arange(32, dtype=np.float32) / np.float32(32)
        if kind == "linear":
            one_d = np.stack([1 - frac, frac], axis=1)
        else:
            one_d = _cubic_weights(frac) if kind == "cubic" else _lanczos4_weights(frac)
        one_d = one_d.astype(np.float32)
        table = np.rint(one_d[:, None, :, None] * one_d[None, :, None, :] * np.float32(1 << 15)).astype(np.int64)
        taps = table.shape[-1]
        centre = slice(taps // 2, taps // 2 + 2)
        for fy in range(32):
            for fx in range(32):
                _fix_sum(table[fy, fx], centre)
        _REMAP_TABLES[kind] = table
    return _REMAP_TABLES[kind]


def _fix_sum(weights, centre):
    """Make the integer weights sum to 2^15 as OpenCV does: scan the 2x2 block at `centre` in row order for
    its smallest and largest weight (first found wins ties) and correct that one."""
    diff = int(weights.sum()) - (1 << 15)
    if diff == 0:
        return
    low = high = (centre.start, centre.start)
    for i in range(centre.start, centre.stop):
        for j in range(centre.start, centre.stop):
            if weights[i, j] < weights[low]:
                low = (i, j)
            elif weights[i, j] > weights[high]:
                high = (i, j)
    weights[high if diff < 0 else low] -= diff


def rgb_to_hls8(img):
    """OpenCV's 8-bit RGB->HLS: hue in degrees / 2, lightness and saturation scaled to 255, rounded."""
    rgb = img.astype(np.float32) / 255
    vmax, vmin = rgb.max(axis=2), rgb.min(axis=2)
    diff = vmax - vmin
    light = (vmax + vmin) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(light < 0.5, diff / (vmax + vmin), diff / (2 - vmax - vmin))
        red, green, blue = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
        hue = np.where(vmax == red, 60 * (green - blue) / diff,
                       np.where(vmax == green, 120 + 60 * (blue - red) / diff, 240 + 60 * (red - green) / diff))
    sat = np.where(diff > 0, sat, 0)
    hue = np.where(diff > 0, hue, 0)
    hue = np.where(hue < 0, hue + 360, hue)
    return (np.rint(hue / 2).astype(np.int32), np.rint(light * 255).astype(np.int32),
            np.rint(sat * 255).astype(np.int32))


def hls8_to_rgb(hue, light, sat):
    """The inverse of rgb_to_hls8 (OpenCV's HLS2RGB on 8-bit values), rounded to uint8."""
    h = hue.astype(np.float32) * 2 / 60
    lum, s = light.astype(np.float32) / 255, sat.astype(np.float32) / 255
    p2 = np.where(lum <= 0.5, lum * (1 + s), lum + s - lum * s)
    p1 = 2 * lum - p2

    def channel(offset):
        t = np.mod(h + offset, 6)
        return np.where(t < 1, p1 + (p2 - p1) * t,
                        np.where(t < 3, p2, np.where(t < 4, p1 + (p2 - p1) * (4 - t), p1)))

    rgb = np.stack([channel(2), channel(0), channel(4)], axis=2)
    rgb = np.where((s == 0)[:, :, None], lum[:, :, None], rgb)
    return _saturate(rgb * 255)
