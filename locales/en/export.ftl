# Exports go to the organizer's private chat only, even when asked for in a group.
export-sent-privately = I've sent it to you in a private message: it holds donors' details, so it never goes to a group.
export-private-first = It holds donors' details, so I send it only in a private message: open a chat with me, tap Start, then ask again.
