//! The one place where berth's failures become AWS errors: a code botocore reads, an
//! HTTP status, and a message a person can act on. The protocol modules only encode
//! an `AwsError`; handlers only pick one.

use http::StatusCode;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: StatusCode,
    /// The AWS error code (`__type` in JSON, `<Code>` in query XML).
    pub code: Cow<'static, str>,
    pub message: String,
    /// Query protocol: `Sender` for client faults, `Receiver` for server faults.
    pub sender_fault: bool,
}

impl AwsError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code: Cow::Borrowed(code), message: message.into(), sender_fault: status.is_client_error() }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    // ---- protocol-level errors, shared by every service ----

    /// The body is not valid JSON, or a member has the wrong type.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::bad_request("SerializationException", message)
    }

    /// A member the operation requires is absent.
    pub fn missing_parameter(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterException", message)
    }

    /// A member's value is not one of its enum's (the message lists the allowed values).
    pub fn invalid_enum(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterException", message)
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::bad_request("UnknownOperationException", format!("Operation '{target}' is not supported by this server."))
    }

    /// Query protocol: `Action=` is missing or names no operation of the service.
    pub fn invalid_action(action: &str) -> Self {
        Self::bad_request("InvalidAction", format!("The action {action} is not valid for this web service."))
    }

    /// Query protocol: a parameter is missing or does not fit the operation's shape or rules.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::bad_request("ValidationError", message)
    }

    /// Temporary credentials past their expiration (`ExpiredTokenException` for JSON
    /// services, `ExpiredToken` for query ones).
    pub fn expired_token(json: bool) -> Self {
        let code = if json { "ExpiredTokenException" } else { "ExpiredToken" };
        Self::new(StatusCode::BAD_REQUEST, code, "The security token included in the request is expired")
    }

    /// Query protocol: the form itself is malformed (a repeated parameter, a bad list index).
    /// AWS's common errors name this code.
    pub fn malformed_query(message: impl Into<String>) -> Self {
        Self::bad_request("MalformedQueryString", message)
    }

    /// An HTTP method no AWS protocol serves operations on (JSON: POST; query: POST, GET).
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The HTTP method {method} is not allowed: send API requests with POST (or GET for query APIs)."),
        )
    }

    pub fn missing_action() -> Self {
        Self::bad_request("MissingAction", "The request must contain the parameter Action.")
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            format!("Request body is larger than the {limit}-byte limit."),
        )
    }

    /// Something failed inside berth; the details go to the log, not to the caller.
    pub fn internal(code: &'static str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code,
            "The server encountered an internal error. Try again; the server log has details.",
        )
    }

    /// Authorization refused the request: AWS's message (`User: ARN is not authorized to
    /// perform: ACTION on resource: ARN because ...`) in the protocol's code and status.
    pub fn access_denied(protocol: crate::route::Protocol, message: impl Into<String>) -> Self {
        match protocol {
            crate::route::Protocol::Json => Self::bad_request("AccessDeniedException", message),
            crate::route::Protocol::Query => Self::new(StatusCode::FORBIDDEN, "AccessDenied", message),
        }
    }

    // ---- ECS ----

    pub fn ecs_client(message: impl Into<String>) -> Self {
        Self::bad_request("ClientException", message)
    }

    pub fn ecs_invalid_parameter(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterException", message)
    }

    pub fn ecs_cluster_not_found() -> Self {
        Self::bad_request("ClusterNotFoundException", "Cluster not found.")
    }

    pub fn ecs_cluster_contains(code: &'static str, message: impl Into<String>) -> Self {
        Self::bad_request(code, message)
    }

    /// PutClusterCapacityProviders removing a provider that a service's strategy names.
    pub fn ecs_resource_in_use(message: impl Into<String>) -> Self {
        Self::bad_request("ResourceInUseException", message)
    }

    /// StopTask, SubmitTaskStateChange, ReportTaskState... naming a task the cluster does not have.
    pub fn ecs_task_not_found() -> Self {
        Self::bad_request("InvalidParameterException", "The referenced task was not found.")
    }

    /// UpdateService, DeleteService... naming a service the cluster does not have.
    pub fn ecs_service_not_found() -> Self {
        Self::bad_request("ServiceNotFoundException", "Service not found.")
    }

    /// UpdateService/DeleteService on a service that is DRAINING or INACTIVE.
    pub fn ecs_service_not_active() -> Self {
        Self::bad_request("ServiceNotActiveException", "Service was not ACTIVE.")
    }

    /// ListServicesByNamespace: berth has no Cloud Map namespaces.
    pub fn ecs_namespace_not_found() -> Self {
        Self::bad_request("NamespaceNotFoundException", "Namespace not found.")
    }

    /// An operation on one container instance that the cluster does not have.
    pub fn ecs_instance_not_found() -> Self {
        Self::bad_request("InvalidParameterException", "The referenced container instance was not found.")
    }

    /// RunTask in a cluster without an ACTIVE container instance.
    pub fn ecs_no_container_instances() -> Self {
        Self::bad_request("InvalidParameterException", "No Container Instances were found in your cluster.")
    }

    /// PutAttributes/DeleteAttributes naming a target that does not exist.
    pub fn ecs_target_not_found(message: impl Into<String>) -> Self {
        Self::bad_request("TargetNotFoundException", message)
    }

    pub fn ecs_attribute_limit_exceeded(message: impl Into<String>) -> Self {
        Self::bad_request("AttributeLimitExceededException", message)
    }

    // ---- CloudWatch Logs ----

    pub fn logs_invalid_parameter(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterException", message)
    }

    pub fn logs_already_exists(message: impl Into<String>) -> Self {
        Self::bad_request("ResourceAlreadyExistsException", message)
    }

    pub fn logs_not_found(message: impl Into<String>) -> Self {
        Self::bad_request("ResourceNotFoundException", message)
    }

    /// The server runs without a logs engine (never in `berth server`/`up`).
    pub fn logs_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "CloudWatch Logs is not enabled on this server.",
        )
    }

    // ---- ECR ----

    pub fn ecr_invalid_parameter(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterException", message)
    }

    pub fn ecr_lifecycle_policy_not_found(repository: &str, account: &str) -> Self {
        Self::bad_request(
            "LifecyclePolicyNotFoundException",
            format!(
                "Lifecycle policy does not exist for the repository with name '{repository}' in the registry with id '{account}'"
            ),
        )
    }

    pub fn ecr_lifecycle_preview_not_found(repository: &str) -> Self {
        Self::bad_request(
            "LifecyclePolicyPreviewNotFoundException",
            format!("There is no lifecycle policy preview for the repository with name '{repository}'"),
        )
    }

    pub fn ecr_repository_policy_not_found(repository: &str, account: &str) -> Self {
        Self::bad_request(
            "RepositoryPolicyNotFoundException",
            format!(
                "Repository policy does not exist for the repository with name '{repository}' in the registry with id '{account}'"
            ),
        )
    }

    pub fn ecr_upload_not_found(upload_id: &str) -> Self {
        Self::bad_request("UploadNotFoundException", format!("The upload with id '{upload_id}' does not exist"))
    }

    pub fn ecr_invalid_layer_part(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidLayerPartException", message)
    }

    pub fn ecr_layers_not_found(message: impl Into<String>) -> Self {
        Self::bad_request("LayersNotFoundException", message)
    }

    pub fn ecr_layer_already_exists(digest: &str) -> Self {
        Self::bad_request("LayerAlreadyExistsException", format!("The layer {digest} already exists"))
    }

    pub fn ecr_image_already_exists(message: &str) -> Self {
        Self::bad_request("ImageAlreadyExistsException", message)
    }

    pub fn ecr_invalid_layer(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidLayerException", message)
    }

    pub fn ecr_invalid_tag_parameter(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidTagParameterException", message)
    }

    /// The registry's failures (shared by the `/v2` endpoints) in ECR's codes.
    pub fn ecr(e: berth_registry::Error) -> Self {
        use berth_registry::Error as E;
        let message = e.to_string();
        let code = match &e {
            E::RepositoryNotFound(_) => "RepositoryNotFoundException",
            E::RepositoryAlreadyExists(_) => "RepositoryAlreadyExistsException",
            E::RepositoryNotEmpty(_) => "RepositoryNotEmptyException",
            E::ImageNotFound(_) => "ImageNotFoundException",
            E::TagAlreadyExists { .. } => "ImageTagAlreadyExistsException",
            E::ManifestInvalid(_) => "InvalidParameterException",
            E::ManifestBlobUnknown(_) => "LayersNotFoundException",
            E::DigestInvalid(_) => "ImageDigestDoesNotMatchException",
            E::TagInvalid(_) => "InvalidParameterException",
            E::Internal(_) => {
                tracing::error!(error = %e, "registry failure");
                return Self::internal("ServerException");
            }
        };
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

/// Elastic Load Balancing v2: every code is a 400 with the model's error code.
impl AwsError {
    pub fn elbv2(code: &'static str, message: impl Into<String>) -> Self {
        Self::bad_request(code, message)
    }

    pub fn elbv2_invalid(invalid: berth_model::elbv2::validate::Invalid) -> Self {
        use berth_model::elbv2::validate::Invalid;
        match invalid {
            Invalid::Validation(m) => Self::validation(m),
            Invalid::Configuration(m) => Self::bad_request("InvalidConfigurationRequest", m),
            Invalid::Action(m) => Self::bad_request("InvalidLoadBalancerAction", m),
        }
    }

    pub fn elbv2_lb_not_found() -> Self {
        Self::bad_request("LoadBalancerNotFound", "One or more load balancers not found")
    }

    pub fn elbv2_tg_not_found() -> Self {
        Self::bad_request("TargetGroupNotFound", "One or more target groups not found")
    }

    pub fn elbv2_listener_not_found() -> Self {
        Self::bad_request("ListenerNotFound", "One or more listeners not found")
    }

    pub fn elbv2_rule_not_found() -> Self {
        Self::bad_request("RuleNotFound", "One or more rules not found")
    }
}

/// IAM's refusals (berth-model's rules) in IAM's codes and statuses, as botocore's model
/// has them (NoSuchEntity 404; EntityAlreadyExists, DeleteConflict, LimitExceeded 409).
impl From<berth_model::iam::IamError> for AwsError {
    fn from(e: berth_model::iam::IamError) -> Self {
        use berth_model::iam::IamError as E;
        let (status, code) = match &e {
            E::NoSuchEntity(_) => (StatusCode::NOT_FOUND, "NoSuchEntity"),
            E::EntityAlreadyExists(_) => (StatusCode::CONFLICT, "EntityAlreadyExists"),
            E::DeleteConflict(_) => (StatusCode::CONFLICT, "DeleteConflict"),
            E::LimitExceeded(_) => (StatusCode::CONFLICT, "LimitExceeded"),
            E::MalformedPolicyDocument(_) => (StatusCode::BAD_REQUEST, "MalformedPolicyDocument"),
            E::InvalidInput(_) => (StatusCode::BAD_REQUEST, "InvalidInput"),
            E::Validation(_) => (StatusCode::BAD_REQUEST, "ValidationError"),
            E::Unmodifiable(_) => (StatusCode::BAD_REQUEST, "UnmodifiableEntity"),
            E::NotAttachable(_) => (StatusCode::BAD_REQUEST, "PolicyNotAttachable"),
        };
        AwsError::new(status, code, e.to_string())
    }
}

/// SSM Parameter Store: its rules' refusals in the model's error codes (all 400).
impl From<berth_model::ssm::SsmError> for AwsError {
    fn from(e: berth_model::ssm::SsmError) -> Self {
        use berth_model::ssm::SsmError as E;
        let code = match &e {
            E::Validation(_) => "ValidationException",
            E::NotFound(_) => "ParameterNotFound",
            E::AlreadyExists => "ParameterAlreadyExists",
            E::VersionNotFound { .. } => "ParameterVersionNotFound",
            E::MaxVersionLimit(..) => "ParameterMaxVersionLimitExceeded",
            E::LabelLimit => "ParameterVersionLabelLimitExceeded",
            E::PatternMismatch(_) => "ParameterPatternMismatchException",
            E::InvalidAllowedPattern(..) => "InvalidAllowedPatternException",
            E::HierarchyLevel => "HierarchyLevelLimitExceededException",
            E::InvalidKeyId(_) => "InvalidKeyId",
            E::UnsupportedParameterType(_) => "UnsupportedParameterType",
            E::InvalidFilterKey(..) => "InvalidFilterKey",
            E::InvalidFilterOption(..) => "InvalidFilterOption",
            E::InvalidFilterValue(_) => "InvalidFilterValue",
            E::InvalidNextToken => "InvalidNextToken",
            E::InvalidResourceId(_) => "InvalidResourceId",
            E::InvalidResourceType(_) => "InvalidResourceType",
            E::TooManyTags(_) => "TooManyTagsError",
        };
        Self::bad_request(code, e.to_string())
    }
}

/// Secrets Manager: its refusals in the model's error codes (all 400).
impl From<berth_model::secretsmanager::SmError> for AwsError {
    fn from(e: berth_model::secretsmanager::SmError) -> Self {
        use berth_model::secretsmanager::SmError as E;
        let code = match &e {
            E::NotFound | E::ValueNotFound(_) => "ResourceNotFoundException",
            E::Exists(_) | E::VersionExists => "ResourceExistsException",
            E::MarkedForDeletion | E::InvalidRequest(_) => "InvalidRequestException",
            E::InvalidParameter(_) => "InvalidParameterException",
            E::Validation(_) => "ValidationException",
        };
        Self::bad_request(code, e.to_string())
    }
}

impl AwsError {
    /// ListSecrets given a NextToken it never handed out.
    pub fn secretsmanager_invalid_next_token() -> Self {
        Self::bad_request(
            "InvalidNextTokenException",
            "The NextToken is not valid: pass the previous response's NextToken unchanged.",
        )
    }
}

/// A sealed value that does not open (another data dir's master key?) or a failed
/// random source: a server fault, logged without the value.
impl From<crate::auth::sealer::SealError> for AwsError {
    fn from(e: crate::auth::sealer::SealError) -> Self {
        tracing::error!(error = %e, "sealing failure");
        AwsError::internal("InternalFailure")
    }
}

/// STS's refusals: ValidationError 400, AccessDenied 403, InvalidAuthorizationMessageException 400.
impl From<berth_model::sts::StsError> for AwsError {
    fn from(e: berth_model::sts::StsError) -> Self {
        use berth_model::sts::StsError as E;
        match e {
            E::Validation(m) => AwsError::validation(m),
            E::AccessDenied(m) => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", m),
            E::InvalidAuthorizationMessage(m) => {
                AwsError::new(StatusCode::BAD_REQUEST, "InvalidAuthorizationMessageException", m)
            }
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}

/// Store failures are server faults: logged with their cause, answered without it.
impl From<berth_store::StoreError> for AwsError {
    fn from(e: berth_store::StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        AwsError::internal("InternalFailure")
    }
}

/// A stored document that does not decode, or a write that lost every race, is a server
/// fault too.
impl From<berth_store::documents::DocumentError> for AwsError {
    fn from(e: berth_store::documents::DocumentError) -> Self {
        tracing::error!(error = %e, "store document failure");
        AwsError::internal("InternalFailure")
    }
}

/// The ECS rules of berth-model refuse with InvalidParameterException.
impl From<berth_model::service::Invalid> for AwsError {
    fn from(e: berth_model::service::Invalid) -> Self {
        AwsError::ecs_invalid_parameter(e.0)
    }
}

impl From<berth_model::launch::Invalid> for AwsError {
    fn from(e: berth_model::launch::Invalid) -> Self {
        AwsError::ecs_invalid_parameter(e.0)
    }
}

/// ECS's domain operations (berth-ecs) fail in these codes, the same as the handlers'.
impl From<berth_ecs::EcsError> for AwsError {
    fn from(e: berth_ecs::EcsError) -> Self {
        use berth_ecs::EcsError as E;
        match e {
            E::InvalidParameter(message) => AwsError::ecs_invalid_parameter(message),
            E::Client(message) => AwsError::ecs_client(message),
            E::ClusterNotFound => AwsError::ecs_cluster_not_found(),
            E::TaskNotFound => AwsError::ecs_task_not_found(),
            E::InstanceNotFound => AwsError::ecs_instance_not_found(),
            E::NoContainerInstances => AwsError::ecs_no_container_instances(),
            E::Contended(what) => {
                tracing::error!(what, "gave up after conflicting writes");
                AwsError::internal("ServerException")
            }
            E::Document(e) => e.into(),
        }
    }
}

/// Auto Scaling's refusals in its codes (botocore's model: all 400 but ResourceContention).
impl From<berth_model::autoscaling::AsgError> for AwsError {
    fn from(e: berth_model::autoscaling::AsgError) -> Self {
        use berth_model::autoscaling::AsgError as E;
        let code = match &e {
            E::Validation(_) => "ValidationError",
            E::AlreadyExists(_) => "AlreadyExists",
            E::ResourceInUse(_) => "ResourceInUse",
            E::ScalingActivityInProgress(_) => "ScalingActivityInProgress",
            E::LimitExceeded(_) => "LimitExceeded",
            E::InvalidNextToken(_) => "InvalidNextToken",
        };
        Self::bad_request(code, e.to_string())
    }
}

/// Application Auto Scaling: its refusals in the model's error codes (all 400).
impl From<berth_model::application_autoscaling::AasError> for AwsError {
    fn from(e: berth_model::application_autoscaling::AasError) -> Self {
        use berth_model::application_autoscaling::AasError as E;
        let code = match &e {
            E::Validation(_) => "ValidationException",
            E::ObjectNotFound(_) => "ObjectNotFoundException",
            E::ConcurrentUpdate(_) => "ConcurrentUpdateException",
            E::FailedResourceAccess(_) => "FailedResourceAccessException",
            E::LimitExceeded(_) => "LimitExceededException",
            E::InvalidNextToken => "InvalidNextTokenException",
            E::ResourceNotFound(_) => "ResourceNotFoundException",
            E::TooManyTags(_) => "TooManyTagsException",
        };
        Self::bad_request(code, e.to_string())
    }
}

/// Auto Scaling's domain operations (berth-autoscaling).
impl From<berth_autoscaling::Error> for AwsError {
    fn from(e: berth_autoscaling::Error) -> Self {
        match e {
            berth_autoscaling::Error::Asg(e) => e.into(),
            berth_autoscaling::Error::Document(e) => e.into(),
        }
    }
}

impl AwsError {
    /// An EC2 refusal: EC2 answers every client error with HTTP 400 and its code.
    pub fn ec2(code: &'static str, message: impl Into<String>) -> Self {
        Self::bad_request(code, message)
    }
}

/// EC2's domain operations (berth-ec2) refuse in EC2's codes, all HTTP 400.
impl From<berth_ec2::Ec2Error> for AwsError {
    fn from(e: berth_ec2::Ec2Error) -> Self {
        match e {
            berth_ec2::Ec2Error::Client { code, message } => AwsError::ec2(code, message),
            berth_ec2::Ec2Error::Document(e) => {
                tracing::error!(error = %e, "EC2 store operation failed");
                AwsError::internal("InternalError")
            }
        }
    }
}

/// CloudWatch: its refusals under their query codes (all 400; ResourceNotFound is 404).
impl From<berth_model::cloudwatch::CwError> for AwsError {
    fn from(e: berth_model::cloudwatch::CwError) -> Self {
        let status = match e {
            berth_model::cloudwatch::CwError::ResourceNotFound(_)
            | berth_model::cloudwatch::CwError::ResourceNotFoundException(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<berth_cloudwatch::AlarmsError> for AwsError {
    fn from(e: berth_cloudwatch::AlarmsError) -> Self {
        match e {
            berth_cloudwatch::AlarmsError::Cw(e) => e.into(),
            berth_cloudwatch::AlarmsError::Store(e) => e.into(),
        }
    }
}

/// The metric store failed to make a batch durable: a server fault (the batch is not stored).
impl From<berth_metric_store::MetricStoreError> for AwsError {
    fn from(e: berth_metric_store::MetricStoreError) -> Self {
        tracing::error!(error = %e, "metric store failure");
        AwsError::internal("InternalFailure")
    }
}
/// The fleet's operations (berth-fleet) refuse a host's request in ECS's codes (the host
/// protocol is part of the agent protocol).
impl From<berth_fleet::FleetError> for AwsError {
    fn from(e: berth_fleet::FleetError) -> Self {
        use berth_fleet::FleetError as E;
        match e {
            E::Invalid(message) => AwsError::ecs_invalid_parameter(message),
            e @ (E::UnknownHost(_) | E::NotOnHost { .. }) => AwsError::ecs_client(e.to_string()),
            E::Document(e) => e.into(),
            E::Ecs(e) => e.into(),
            E::Ec2(e) => e.into(),
        }
    }
}
