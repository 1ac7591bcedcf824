"""Departments (budget pools) of a portfolio."""

from backend.api.routes.entities import entity_router
from backend.crud import DEPARTMENTS
from backend.models import DepartmentCreate, DepartmentPublic, DepartmentUpdate

router = entity_router(DEPARTMENTS, DepartmentCreate, DepartmentUpdate, DepartmentPublic)
