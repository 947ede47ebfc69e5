"""Classifiers that measure utility: trained on real, fake or mixed images, always tested
on the held-out real test split that no GAN has seen."""
from .models import CLASSIFIERS, build_classifier
from .splits import fake_subset, mixed_set
from .train import Scored, evaluate, extract_features, fit, fit_recipe, fit_scored, predict_logits, predict_proba

__all__ = ["CLASSIFIERS", "Scored", "build_classifier", "evaluate", "extract_features", "fake_subset", "fit",
           "fit_recipe", "fit_scored", "mixed_set", "predict_logits", "predict_proba"]
