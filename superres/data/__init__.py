"""Training data of the super-resolution core: the procedural corpus, the
degradation model and the LR/HR patch sampler."""
