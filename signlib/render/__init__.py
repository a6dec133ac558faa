"""Rendering: skeleton frames and videos, meshes, Gaussian avatars."""
