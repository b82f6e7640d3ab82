from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "krug.accounts"
    label = "accounts"
