# Les exports ne vont qu'en message privé à l'organisateur, même demandés dans un groupe.
export-sent-privately = Je vous l'ai envoyé en message privé : il contient des données des donateurs, il ne va donc jamais dans un groupe.
export-private-first = Il contient des données des donateurs, je ne l'envoie donc qu'en message privé : ouvrez une conversation avec moi, touchez Démarrer, puis redemandez-le.
