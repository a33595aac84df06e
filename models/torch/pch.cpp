// The translation unit that carries the shared precompiled ATen header.
