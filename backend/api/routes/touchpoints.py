"""Touchpoints of a portfolio: curve, spends, pain points, feedback."""

from backend.api.routes.entities import entity_router
from backend.crud import TOUCHPOINTS
from backend.models import TouchpointCreate, TouchpointPublic, TouchpointUpdate

router = entity_router(TOUCHPOINTS, TouchpointCreate, TouchpointUpdate, TouchpointPublic)
