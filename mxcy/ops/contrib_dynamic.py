"""Operators whose output shape depends on their input values (MXNet's dynamic-shape ops): contrib.boolean_mask.
They run on NDArrays through `imperative` (as Custom does), in graphs too; the positions are found on the host."""
from . import registry
from .registry import OpDef, Param


class _BooleanMask(OpDef):
    """data's rows where index is nonzero. The gradient comes from the ops `imperative` runs (take)."""
    __slots__ = ()

    def __init__(self):
        super().__init__("_contrib_boolean_mask", params=(Param("axis", "int", 0, "the axis to select along"),),
                         arguments=("data", "index"), infer_shape=self._infer_shape, compute={},
                         doc="Selects the rows of data (along axis 0) where the vector index is nonzero.")

    @staticmethod
    def _infer_shape(attrs, shapes):
        # the number of rows kept is known only from index's values
        return shapes, [None]

    def imperative(self, inputs, attrs):
        from ..ndarray.contrib import boolean_mask
        return [boolean_mask(inputs[0], inputs[1], axis=attrs["axis"])]


registry.register(_BooleanMask())
