"""Closing the loop: past forecasts scored on the actuals that arrived since, and the drift alarm
(``forecast evaluate``)."""
