"""Networks of the super-resolution core: generator, discriminator and the
fixed feature network used by the perceptual loss."""

from superres.nets.discriminator import PatchDiscriminator
from superres.nets.features import FixedFeatureNet
from superres.nets.generator import RRDBNet

__all__ = ["RRDBNet", "PatchDiscriminator", "FixedFeatureNet"]
