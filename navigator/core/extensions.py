"""Extensions are created once here and bound to an app in `create_app`."""

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from navigator.core.db import Base

db = SQLAlchemy(model_class=Base)
# The console's sessions and CSRF tokens; the API authenticates with keys and needs neither.
login_manager = LoginManager()
csrf = CSRFProtect()


def current_session() -> Session:
    """The app context's SQLAlchemy session, typed as a plain Session for the services."""
    return db.session()
