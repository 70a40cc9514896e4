"""Extensions are created once here and bound to an app in `create_app`."""

from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from navigator.db import Base

db = SQLAlchemy(model_class=Base)
openapi = Api()
