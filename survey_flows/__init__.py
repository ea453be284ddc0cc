"""The pure core: what a survey is and what happens next. Standard library only."""
