from django.contrib import admin

from oneteam.compute.models import Charge, ComputePool, Job, UsageApproval


@admin.register(ComputePool)
class ComputePoolAdmin(admin.ModelAdmin[ComputePool]):
    list_display = ("slug", "name", "owner", "executor", "capacity", "price_cpu_hour",
                    "price_gpu_hour", "active")
    list_filter = ("executor", "active", "owner")
    search_fields = ("slug", "name")


@admin.register(UsageApproval)
class UsageApprovalAdmin(admin.ModelAdmin[UsageApproval]):
    list_display = ("consumer", "provider", "limit", "created")
    readonly_fields = ("submission",)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ("id", "title", "pool", "consumer", "state", "reason", "created",
                    "finished", "cpu_seconds")
    list_filter = ("state", "pool")
    readonly_fields = ("spec", "result", "worker", "lease_until", "native_id")


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin[Charge]):
    list_display = ("usage_ref", "consumer", "provider", "amount", "created")
    readonly_fields = ("job", "approval", "submission")
