"""Categories of problems and themes of suggestions; each is an Open311 service.

questions.py is the one home of a category's questions (Open311 attribute definitions): the
check of what an administrator writes, their words in French and English, and the check of the
answers every front end receives; services.py the audited writes of the admin pages."""
