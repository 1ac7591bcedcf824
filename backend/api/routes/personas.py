"""Personas (customer segments) of a portfolio."""

from backend.api.routes.entities import entity_router
from backend.crud import PERSONAS
from backend.models import PersonaCreate, PersonaPublic, PersonaUpdate

router = entity_router(PERSONAS, PersonaCreate, PersonaUpdate, PersonaPublic)
