"""Client cards (contact, company) with the timeline, and the leads inbox."""

urlpatterns: list = []
