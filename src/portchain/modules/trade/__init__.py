"""Trade: sales contracts between a seller and a buyer."""
