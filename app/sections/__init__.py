"""The page's sections, top to bottom: each draws one part of the screen from explicit arguments."""
