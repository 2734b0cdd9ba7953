"""The commands on an account: open it, change it or its plan, its API keys and owners."""

from collections.abc import Mapping
from uuid import UUID, uuid4

from domain.account import Account, check_account_name, check_locale, check_plan
from domain.errors import Conflict, NotFound, ValidationError
from domain.keys import display_prefix, hash_key, new_key
from domain.owners import OwnerEmail, check_owner_email
from domain.quotas import ClientQuota, InvoiceNumbering
from domain.saving import Saving


class AccountCommands(Saving):
    # --- accounts and keys -----------------------------------------------------------

    def open_account(
        self, name: str, plan: str = "free", locale: str = "en", details: Mapping[str, str | None] | None = None
    ) -> UUID:
        account = Account(check_account_name(name), check_plan(plan), check_locale(locale))
        if details:
            account.update(details)
        self.save(account, ClientQuota(account_id=account.id), InvoiceNumbering(account_id=account.id))
        return account.id

    def update_account(self, account_id: UUID, values: Mapping[str, str | None]) -> None:
        """Changes the account's name, locale or seller details (address, email, tax id, phone)."""

        def command() -> None:
            account = self.get_account(account_id)
            account.update(values)
            self.save(account)

        self._retrying(command, account_id)

    def change_plan(self, account_id: UUID, plan: str) -> None:
        def command() -> None:
            account = self.get_account(account_id)
            account.change_plan(plan)
            self.save(account)

        self._retrying(command, account_id)

    def issue_api_key(self, account_id: UUID, name: str = "") -> tuple[UUID, str]:
        """Returns the key's id and the key itself, which is never stored."""
        label = name.strip()
        if len(label) > 255:
            raise ValidationError("Key name must be at most 255 characters")
        key = new_key()
        key_id = uuid4()

        def command() -> None:
            account = self.get_account(account_id)
            account.issue_key(key_id, hash_key(key), label, display_prefix(key))
            self.save(account)

        self._retrying(command, account_id)
        return key_id, key

    def revoke_api_key(self, account_id: UUID, key_id: UUID) -> None:
        def command() -> None:
            account = self.get_account(account_id)
            account.revoke_key(key_id)
            self.save(account)

        self._retrying(command, account_id)

    # --- owners ------------------------------------------------------------------

    def owner_by_email(self, email: str) -> OwnerEmail | None:
        """Who signs in with ``email`` (any capitalisation), if anyone."""
        return self._get(OwnerEmail, OwnerEmail.create_id(email))

    def add_owner(self, account_id: UUID, email: str, *, first: bool = False) -> UUID:
        """Adds someone who signs in with ``email`` to act for the account; an email
        belongs to one owner of one account. With ``first``, only while the account has
        no owner: of two racing first owners, one is added (the other fails on the
        account's version, and finds it owned on its retry)."""
        address = check_owner_email(email)

        def command() -> UUID:
            account = self.get_account(account_id)
            if first and account.owners:
                raise NotFound("The account has its first owner already")
            if self.owner_by_email(address) is not None:
                raise Conflict("This email already signs in to an account")
            owner_id = uuid4()
            account.add_owner(owner_id, address)
            self.save(account, OwnerEmail(address, owner_id, account_id))
            return owner_id

        return self._retrying(command, account_id)
