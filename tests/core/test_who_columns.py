"""The columns that say who did something have no database constraint (see core.models.TrackedModel): a
user deleted through Django still leaves the records, their audit trail and their timeline, without his name."""

from krug.accounts import services as accounts
from krug.clients import services as clients
from krug.clients.models import Contact, TimelineEvent
from krug.core.models import AuditEntry
from krug.core.permissions import Role


def test_deleting_a_user_keeps_what_he_did_without_his_name(org):
    temp = accounts.create_user("temp-admin", role=Role.ADMIN)
    contact = clients.create_contact(temp, {"surname": "Голубев", "first_name": "Ян", "owner_id": org.admin.pk})
    temp_id = temp.pk
    temp.delete()
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.created_by_id is None and contact.updated_by_id is None
    entry = AuditEntry.objects.get(object_id=contact.pk, action=AuditEntry.Action.CREATE)
    assert entry.user_id is None and entry.content_type.model == "contact"
    assert TimelineEvent.objects.filter(contact=contact, actor__isnull=True).exists()
    assert not TimelineEvent.objects.filter(actor_id=temp_id).exists()
    assert not AuditEntry.objects.filter(user_id=temp_id).exists()
