"""ImageDetRecordIter's augmenter (MXNet 1.9.1's `det_aug_default`) and its object labels, on the host: resize,
HLS and contrast jitter, mirror, pad and the SSD-style crop samplers move the boxes with the image, then the
image is resized by `resize_mode`. Boxes are float32 fractions of the image, as MXNet keeps them."""
import numpy as np

from ..base import MXNetError
from ..image.image import resize_array
from .image_aug import _interp, _saturate, hls8_to_rgb, rgb_to_hls8

F32 = np.float32

DET_AUG_PARAMS = {
    "resize": (int, -1), "rand_crop_prob": (float, 0.0), "min_crop_scales": (str, "0"), "max_crop_scales": (str, "1"),
    "min_crop_aspect_ratios": (str, "1"), "max_crop_aspect_ratios": (str, "1"), "min_crop_overlaps": (str, "0"),
    "max_crop_overlaps": (str, "1"), "min_crop_sample_coverages": (str, "0"), "max_crop_sample_coverages": (str, "1"),
    "min_crop_object_coverages": (str, "0"), "max_crop_object_coverages": (str, "1"), "num_crop_sampler": (int, 1),
    "crop_emit_mode": (str, "center"), "emit_overlap_thresh": (float, 0.3), "max_crop_trials": (str, "25"),
    "rand_pad_prob": (float, 0.0), "max_pad_scale": (float, 1.0), "max_random_hue": (int, 0),
    "random_hue_prob": (float, 0.0), "max_random_saturation": (int, 0), "random_saturation_prob": (float, 0.0),
    "max_random_illumination": (int, 0), "random_illumination_prob": (float, 0.0), "max_random_contrast": (float, 0.0),
    "random_contrast_prob": (float, 0.0), "rand_mirror_prob": (float, 0.0), "fill_value": (int, 127),
    "inter_method": (int, 1), "resize_mode": (str, "force")}
_SAMPLER_PARAMS = ("min_crop_scales", "max_crop_scales", "min_crop_aspect_ratios", "max_crop_aspect_ratios",
                   "min_crop_overlaps", "max_crop_overlaps", "min_crop_sample_coverages", "max_crop_sample_coverages",
                   "min_crop_object_coverages", "max_crop_object_coverages", "max_crop_trials")


class DetLabel:
    """A detection label: header [header_width, object_width, extra...] and objects [id, left, top, right,
    bottom, extra...]; objects without area are dropped, as MXNet's parser does."""

    def __init__(self, raw):
        raw = np.asarray(raw, F32)
        if raw.size < 7:
            raise MXNetError(f"a detection label needs at least 7 values (2 header + 1 object of 5), got {raw.size}")
        header_width, object_width = int(raw[0]), int(raw[1])
        if header_width < 2 or object_width < 5 or (raw.size - header_width) % object_width:
            raise MXNetError(f"bad detection label: header width {header_width}, object width {object_width}, "
                             f"{raw.size} values")
        self.header = raw[:header_width]
        objects = raw[header_width:].reshape(-1, object_width)
        self.objects = objects[(objects[:, 3] > objects[:, 1]) & (objects[:, 4] > objects[:, 2])]

    def to_array(self):
        return np.concatenate([self.header, self.objects.ravel()])

    def project(self, box):
        """Boxes in the coordinates of `box` (x, y, width, height), clipped to [0, 1]."""
        x, y, w, h = (F32(v) for v in box)
        out = self.objects.copy()
        out[:, 1] = np.maximum(F32(0), (out[:, 1] - x) / w)
        out[:, 2] = np.maximum(F32(0), (out[:, 2] - y) / h)
        out[:, 3] = np.minimum(F32(1), (out[:, 3] - x) / w)
        out[:, 4] = np.minimum(F32(1), (out[:, 4] - y) / h)
        return out

    def mirror(self):
        left = F32(1) - self.objects[:, 3]
        self.objects[:, 3] = F32(1) - self.objects[:, 1]
        self.objects[:, 1] = left

    def try_crop(self, box, sampler, emit_mode, emit_thresh):
        """MXNet's TryCrop: the crop must meet the sampler's overlap/coverage limits for some object; the kept
        objects (centre inside, or enough of them inside) are projected. False leaves the label unchanged."""
        if not len(self.objects):
            return True
        limits = [(name, sampler[f"min_{name}"], sampler[f"max_{name}"])
                  for name in ("crop_overlaps", "crop_sample_coverages", "crop_object_coverages")]
        active = [(name, low, high) for name, low, high in limits if low > 0 or high < 1]
        inter = _intersection(box, self.objects)
        gt_area = (self.objects[:, 3] - self.objects[:, 1]) * (self.objects[:, 4] - self.objects[:, 2])
        box_area = F32(box[2]) * F32(box[3])
        measures = {"crop_overlaps": np.where(inter > 0, inter / (box_area + gt_area - inter), F32(0)),
                    "crop_sample_coverages": inter / box_area, "crop_object_coverages": inter / gt_area}
        ok = np.ones(len(self.objects), bool)
        for name, low, high in active:
            ok &= (measures[name] >= F32(low)) & (measures[name] <= F32(high))
        if not ok.any():
            return False
        if emit_mode == "center":
            cx = (self.objects[:, 1] + self.objects[:, 3]) * F32(0.5)
            cy = (self.objects[:, 2] + self.objects[:, 4]) * F32(0.5)
            x, y, w, h = (F32(v) for v in box)
            keep = (cx >= x) & (cx < x + w) & (cy >= y) & (cy < y + h)
        else:
            keep = inter / gt_area > F32(emit_thresh)
        if not keep.any():
            return False
        self.objects = self.project(box)[keep]
        return True


def _intersection(box, objects):
    x, y, w, h = (F32(v) for v in box)
    width = np.minimum(x + w, objects[:, 3]) - np.maximum(x, objects[:, 1])
    height = np.minimum(y + h, objects[:, 4]) - np.maximum(y, objects[:, 2])
    return np.where((width > 0) & (height > 0), width * height, F32(0))


def _tuple_of(name, text, kind):
    try:
        values = [kind(v) for v in str(text).strip("()[] ").split(",") if v.strip()]
    except ValueError:
        raise MXNetError(f"ImageDetRecordIter: argument {name}={text!r} is not a tuple of numbers") from None
    return values


class DefaultDetAugmenter:
    """`det_aug_default` with MXNet's arguments `p` (DET_AUG_PARAMS plus data_shape)."""

    def __init__(self, p, iterator):
        self.p = p
        count = p["num_crop_sampler"]
        self.samplers = [{} for _ in range(max(count, 0))]
        for name in _SAMPLER_PARAMS:
            values = _tuple_of(name, p[name], int if name == "max_crop_trials" else float)
            if count > 1 and len(values) == 1:
                values = values * count
            if count >= 1 and len(values) != count:
                raise MXNetError(f"{iterator}: {name} has {len(values)} values for {count} crop samplers")
            for sampler, value in zip(self.samplers, values):
                sampler[name] = value
        for sampler in self.samplers:
            if not (0 <= sampler["min_crop_scales"] < sampler["max_crop_scales"] <= 1
                    and 0 <= sampler["min_crop_aspect_ratios"] <= sampler["max_crop_aspect_ratios"]
                    and sampler["min_crop_overlaps"] <= sampler["max_crop_overlaps"]
                    and sampler["min_crop_sample_coverages"] <= sampler["max_crop_sample_coverages"]
                    and sampler["min_crop_object_coverages"] <= sampler["max_crop_object_coverages"]):
                raise MXNetError(f"{iterator}: crop sampler limits must satisfy 0 <= min_crop_scales < "
                                 f"max_crop_scales <= 1 and min <= max for the others, got {sampler}")
        if p["crop_emit_mode"] not in ("center", "overlap") or p["resize_mode"] not in ("force", "fit", "shrink"):
            raise MXNetError(f"{iterator}: crop_emit_mode must be 'center' or 'overlap' and resize_mode 'force', "
                             f"'fit' or 'shrink', got {p['crop_emit_mode']!r}, {p['resize_mode']!r}")
        if not (0 <= p["inter_method"] <= 4 or p["inter_method"] in (9, 10)):
            raise MXNetError(f"{iterator}: invalid inter_method {p['inter_method']}: valid values are 0-4, 9, 10")

    def __call__(self, img, raw_label, rng):
        p = self.p
        if p["resize"] != -1:
            rows, cols = img.shape[:2]
            size = (p["resize"], p["resize"] * rows // cols) if rows > cols else (p["resize"] * cols // rows,
                                                                                    p["resize"])
            img = resize_array(img, *size, _interp(p["inter_method"], cols, rows, *size, rng))
        label = DetLabel(raw_label)
        if p["random_hue_prob"] > 0 or p["random_saturation_prob"] > 0 or p["random_illumination_prob"] > 0 \
                or p["random_contrast_prob"] > 0:
            img = self._colour(img, rng)
        if p["rand_mirror_prob"] > 0 and rng.random() < p["rand_mirror_prob"]:
            label.mirror()
            img = img[:, ::-1]
        if p["rand_pad_prob"] > 0 and p["max_pad_scale"] > 1 and rng.random() < p["rand_pad_prob"]:
            img = self._pad(img, label, rng)
        if p["rand_crop_prob"] > 0 and self.samplers and rng.random() < p["rand_crop_prob"]:
            img = self._crop(img, label, rng)
        return self._final_resize(img, rng), label.to_array()

    def _colour(self, img, rng):
        p = self.p
        hue, sat, light = (int(rng.uniform(-1, 1) * p[name]) for name in
                           ("max_random_hue", "max_random_saturation", "max_random_illumination"))
        contrast = F32(rng.uniform(-1, 1)) * F32(p["max_random_contrast"])
        hue = hue if rng.random() < p["random_hue_prob"] else 0
        sat = sat if rng.random() < p["random_saturation_prob"] else 0
        light = light if rng.random() < p["random_illumination_prob"] else 0
        contrast = contrast if rng.random() < p["random_contrast_prob"] else F32(0)
        if hue or sat or light:
            h, lum, s = rgb_to_hls8(img)
            img = hls8_to_rgb(np.clip(h + hue, 0, 180), np.clip(lum + light, 0, 255), np.clip(s + sat, 0, 255))
        if abs(contrast) > 1e-3:
            img = _saturate(img.astype(F32) * (contrast + F32(1)))
        return img

    def _pad(self, img, label, rng):
        scale = F32(rng.uniform(1, self.p["max_pad_scale"]))
        if scale < F32(1.05):
            return img
        x0, y0 = F32(rng.uniform(0, scale - 1)), F32(rng.uniform(0, scale - 1))
        label.objects = label.project((-x0, -y0, scale, scale))
        rows, cols = img.shape[:2]
        left, top = int(x0 * F32(cols)), int(y0 * F32(rows))
        right, bottom = int((scale - x0 - F32(1)) * F32(cols)), int((scale - y0 - F32(1)) * F32(rows))
        return np.pad(img, ((top, bottom), (left, right), (0, 0)), constant_values=self.p["fill_value"])

    def _crop(self, img, label, rng):
        rows, cols = img.shape[:2]
        for index in rng.permutation(len(self.samplers)):
            sampler = self.samplers[index]
            for _ in range(sampler["max_crop_trials"]):
                box = self._crop_box(sampler, rng, F32(cols) / F32(rows))
                if label.try_crop(box, sampler, self.p["crop_emit_mode"], self.p["emit_overlap_thresh"]):
                    left, top = int(box[0] * F32(cols)), int(box[1] * F32(rows))
                    width, height = int(box[2] * F32(cols)), int(box[3] * F32(rows))
                    return img[top:top + height, left:left + width]
        return img

    @staticmethod
    def _crop_box(sampler, rng, aspect):
        scale = F32(rng.uniform(sampler["min_crop_scales"], sampler["max_crop_scales"])) + F32(1e-12)
        low = max(F32(sampler["min_crop_aspect_ratios"]) / aspect, scale * scale)
        high = min(F32(sampler["max_crop_aspect_ratios"]) / aspect, F32(1) / (scale * scale))
        ratio = F32(np.sqrt(F32(rng.uniform(low, high))))
        width, height = min(F32(1), scale * ratio), min(F32(1), scale / ratio)
        return (F32(rng.uniform(0, 1 - width)), F32(rng.uniform(0, 1 - height)), width, height)

    def _final_resize(self, img, rng):
        p, (_, out_h, out_w) = self.p, self.p["data_shape"]
        rows, cols = img.shape[:2]
        if p["resize_mode"] == "force":
            new_w, new_h = out_w, out_h
        else:
            ratio = min(F32(out_h) / F32(rows), F32(out_w) / F32(cols))
            if p["resize_mode"] == "shrink" and rows <= out_h and cols <= out_w:
                return img
            new_w, new_h = int(ratio * F32(cols)), int(ratio * F32(rows))
        return resize_array(img, new_w, new_h, _interp(p["inter_method"], cols, rows, new_w, new_h, rng))
