"""Reading the ledger back: statistics, the chart, the CSV export and progress towards the goal."""
