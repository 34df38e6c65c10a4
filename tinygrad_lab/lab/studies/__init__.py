"""The studies (depth, init, lr): one lab question over many seeds, trained along a seed axis."""
