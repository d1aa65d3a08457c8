"""Starts moto's server (the AWS emulator of the tests) with the Route 53 Resolver operations
nat-flowrec records DNS queries with, where the pinned moto (tests/requirements.txt) has none.

moto 5.2.5 creates, associates, gets and lists query-logging configurations, but answers
DisassociateResolverQueryLogConfig and DeleteResolverQueryLogConfig with HTTP 500 and refuses
tags on a configuration's ARN. This adds them as AWS's API reference documents them:

* DisassociateResolverQueryLogConfig(ResolverQueryLogConfigId, ResourceId): the association
  leaves (answered with status DELETING); ResourceNotFoundException when there is none.
* DeleteResolverQueryLogConfig(ResolverQueryLogConfigId): refused with InvalidRequestException
  while a VPC is still associated ("you must first disassociate all VPCs"); otherwise the
  configuration and its tags leave (answered with status DELETING).
* TagResource, UntagResource, ListTagsForResource on a configuration's ARN.

Each patch is applied only when moto lacks the operation, so a moto that gains them keeps its
own. Usage is moto_server's: `python tests/moto_launcher.py -H 127.0.0.1 -p PORT`.
"""

import json
import sys

from moto.route53resolver import models, responses
from moto.route53resolver.exceptions import (
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.server import main

Backend = models.Route53ResolverBackend
Response = responses.Route53ResolverResponse


def _config(backend, config_id):
    config = backend.resolver_query_log_configs.get(config_id)
    if config is None:
        raise ResourceNotFoundException(
            f"Resolver query log config with ID '{config_id}' does not exist"
        )
    return config


def _associations_of(backend, config_id):
    return [
        a
        for a in backend.resolver_query_log_config_associations.values()
        if a.resolver_query_log_config_id == config_id
    ]


def disassociate_resolver_query_log_config(self, resolver_query_log_config_id, resource_id):
    config = _config(self, resolver_query_log_config_id)
    for association in _associations_of(self, resolver_query_log_config_id):
        if association.resource_id == resource_id:
            del self.resolver_query_log_config_associations[association.id]
            config.association_count -= 1
            association.status = "DELETING"
            return association
    raise ResourceNotFoundException(
        f"Resolver query log config '{resolver_query_log_config_id}' is not associated "
        f"with VPC '{resource_id}'"
    )


def delete_resolver_query_log_config(self, resolver_query_log_config_id):
    config = _config(self, resolver_query_log_config_id)
    vpcs = [a.resource_id for a in _associations_of(self, resolver_query_log_config_id)]
    if vpcs:
        raise InvalidRequestException(
            f"Resolver query log config '{resolver_query_log_config_id}' is still associated "
            f"with {', '.join(vpcs)}: disassociate all VPCs before deleting it"
        )
    del self.resolver_query_log_configs[resolver_query_log_config_id]
    self.tagger.delete_all_tags_for_resource(config.arn)
    config.status = "DELETING"
    return config


def disassociate_response(self):
    association = self.route53resolver_backend.disassociate_resolver_query_log_config(
        resolver_query_log_config_id=self._get_param("ResolverQueryLogConfigId"),
        resource_id=self._get_param("ResourceId"),
    )
    return json.dumps({"ResolverQueryLogConfigAssociation": association.description()})


def delete_response(self):
    config = self.route53resolver_backend.delete_resolver_query_log_config(
        resolver_query_log_config_id=self._get_param("ResolverQueryLogConfigId"),
    )
    return json.dumps({"ResolverQueryLogConfig": config.description()})


def _accepts_query_log_config_arns(matched_arn):
    """Wraps moto's ARN check (endpoints and rules only) so tags reach configurations too."""

    def check(self, resource_arn):
        for config in self.resolver_query_log_configs.values():
            if config.arn == resource_arn:
                return
        matched_arn(self, resource_arn)

    return check


def _lacks(cls, name):
    return not hasattr(cls, name)


def patch():
    """Adds what is missing; returns the names added (printed at start, for the test log)."""
    added = []
    for name, backend_fn, response_fn in (
        (
            "disassociate_resolver_query_log_config",
            disassociate_resolver_query_log_config,
            disassociate_response,
        ),
        ("delete_resolver_query_log_config", delete_resolver_query_log_config, delete_response),
    ):
        if _lacks(Backend, name) or _lacks(Response, name):
            setattr(Backend, name, backend_fn)
            setattr(Response, name, response_fn)
            added.append(name)
    if not _tags_reach_query_log_configs():
        Backend._matched_arn = _accepts_query_log_config_arns(Backend._matched_arn)
        added.append("tags on query-log configurations")
    return added


def _tags_reach_query_log_configs():
    """Whether moto's own ARN check already knows query-log configurations."""
    import inspect

    try:
        return "resolver_query_log_configs" in inspect.getsource(Backend._matched_arn)
    except (OSError, TypeError):
        return False


if __name__ == "__main__":
    added = patch()
    print(f"moto_launcher: added {', '.join(added) or 'nothing'}", file=sys.stderr, flush=True)
    sys.argv[0] = "moto_server"
    sys.exit(main())
