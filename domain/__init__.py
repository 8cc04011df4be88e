"""Pure decisions (rendering, matching, conditions): stdlib, pydantic and schemas only."""
