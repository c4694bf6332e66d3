from .impl import Base
