"""Activation layers: Activation, LeakyReLU, PReLU, ELU, SELU, Swish and GELU (Activation, LeakyReLU and sigmoid
ops through F)."""
from ... import initializer
from ..block import HybridBlock

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "Swish", "GELU"]


class Activation(HybridBlock):
    """The element-wise activation `activation` (relu, sigmoid, tanh, softrelu or softsign) of the input.

    Its default prefix is the activation's name (relu0_, ...), as in MXNet.
    """

    def __init__(self, activation, **kwargs):
        self._act_type = activation  # set first: the prefix (from _alias) reads it
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        return F.Activation(x, act_type=self._act_type, name="fwd")

    def __repr__(self):
        return f"{type(self).__name__}({self._act_type})"


class _LeakyVariant(HybridBlock):
    """The LeakyReLU op with the class's act_type, and the instance's slope where the variant takes one."""
    _act_type = None
    _slope = None

    def hybrid_forward(self, F, x):
        slope = {} if self._slope is None else {"slope": self._slope}
        return F.LeakyReLU(x, act_type=self._act_type, name="fwd", **slope)


class LeakyReLU(_LeakyVariant):
    """x for x >= 0, alpha * x below (alpha >= 0)."""
    _act_type = "leaky"

    def __init__(self, alpha, **kwargs):
        if alpha < 0:
            raise ValueError(f"LeakyReLU: the slope alpha must be no less than 0, got {alpha}")
        super().__init__(**kwargs)
        self._slope = alpha

    def __repr__(self):
        return f"{type(self).__name__}({self._slope})"


class PReLU(HybridBlock):
    """LeakyReLU with a learned slope `alpha`: one for all channels (in_channels=1) or one per channel (axis 1)."""

    def __init__(self, alpha_initializer=initializer.Constant(0.25), in_channels=1, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,), init=alpha_initializer)

    def hybrid_forward(self, F, x, alpha):
        return F.LeakyReLU(x, gamma=alpha, act_type="prelu", name="fwd")


class ELU(_LeakyVariant):
    """x for x > 0, alpha * (exp(x) - 1) below (Clevert et al., 2016)."""
    _act_type = "elu"

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._slope = alpha


class SELU(_LeakyVariant):
    """Scaled ELU with the fixed constants of Klambauer et al., 2017."""
    _act_type = "selu"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


class GELU(_LeakyVariant):
    """x * Phi(x), Phi the standard normal CDF (Hendrycks and Gimpel, 2016)."""
    _act_type = "gelu"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


class Swish(HybridBlock):
    """x * sigmoid(beta * x) (Ramachandran et al., 2017)."""

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = beta

    def hybrid_forward(self, F, x):
        return x * F.sigmoid(self._beta * x, name="fwd")
