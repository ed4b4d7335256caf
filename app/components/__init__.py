"""Reusable page components: the editable grid and the step player."""
