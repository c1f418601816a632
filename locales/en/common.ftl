# Shared names and the answers every feature may give.
-campaign-name = Help Refugees in Calais — Winter
-beneficiary = l'Auberge des Migrants

common-unknown-command = I don't know that command. Send /help to see what I can do.
common-free-text = I answer commands and buttons. Send /help to see what I can do, or /donate to give.
common-error = Something went wrong on my side. Please try again in a moment.
common-unavailable = I can't reach my records right now. Please try again in a few minutes.
common-button-expired = This button is no longer valid. Send /start to begin again.
common-cancelled = Cancelled.
common-button-cancel = Cancel
