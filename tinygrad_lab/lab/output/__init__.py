"""What every command of the lab writes with: `OutputFiles` (files written together or not at
all), the plotting setup, and the report's figures and tables."""
