"""The base of every form on TellCity's pages."""

from flask import request
from flask_wtf import FlaskForm


class PageForm(FlaskForm):
    """A form of an HTML page: it reads what a browser submits (a urlencoded or multipart
    body) and nothing else. Flask-WTF would also read a JSON body as the form, handing the
    fields lists, numbers and objects that no field or validator expects (a 500, or an
    object saved as a name); a JSON body here is a form left empty, refused as such."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if request.is_json and not hasattr(formdata, "getlist"):  # not given: the body's
                return None
            return super().wrap_formdata(form, formdata)
