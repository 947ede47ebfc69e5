"""Non-GAN generators that every GAN is compared with."""
