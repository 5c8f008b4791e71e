"""Trained swappers: a per-identity autoencoder (shared encoder, one decoder per person, PatchGAN critic).

Training needs PyTorch (``pip install facecraft[train]``); swapping with a trained model needs only the
exported ONNX file and its card, run on onnxruntime.
"""
