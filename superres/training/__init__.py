"""Training of the super-resolution generator: PSNR stage, GAN stage, fine-tuning."""
