"""Which department handles which category in which zone: data an administrator edits."""
