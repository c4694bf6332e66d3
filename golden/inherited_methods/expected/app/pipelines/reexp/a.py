from .b import Base as Mid
