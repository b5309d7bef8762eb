use super::*;
use berth_model::ec2::Tag;
use berth_store::MemoryStore;

const AMI: &str = "ami-0a3c14e1ddbe7f23c";

fn scope() -> Scope {
    Scope::new("us-east-1", "111122223333")
}

fn spec(instance_type: &str, count: i32) -> LaunchSpec {
    LaunchSpec {
        params: LaunchParams {
            image_id: Some(AMI.into()),
            instance_type: Some(instance_type.into()),
            tags: vec![Tag { key: "Name".into(), value: "web".into() }],
            ..Default::default()
        },
        min_count: count,
        max_count: count,
        ..Default::default()
    }
}

#[tokio::test]
async fn launches_pending_instances_with_addresses_in_a_default_subnet() {
    let store = MemoryStore::new();
    let r = run_instances(&store, &scope(), spec("t3.micro", 2)).await.unwrap();
    assert_eq!(r.instances.len(), 2);
    let (a, b) = (&r.instances[0], &r.instances[1]);
    assert_eq!(a.state, InstanceState::Pending);
    assert_eq!(a.host, None);
    assert_ne!(a.private_ip_address, b.private_ip_address);
    assert_eq!(a.subnet_id, b.subnet_id);
    assert_eq!((a.ami_launch_index, b.ami_launch_index), (0, 1));
    assert!(a.private_dns_name.ends_with(".ec2.internal"));
    assert_eq!(a.security_group_ids.len(), 1, "the VPC's default group");
    let subnet = resolve::subnet_by_id(&store, &a.subnet_id).await.unwrap().value;
    assert_eq!(subnet.allocated_ips.len(), 2);
    let described = describe_instances(&store, &[], &[]).await.unwrap();
    assert_eq!(described.len(), 2);
}

#[tokio::test]
async fn refusals_create_nothing() {
    let store = MemoryStore::new();
    let cases: Vec<(LaunchSpec, &str)> = vec![
        (spec("t3.enormous", 1), "InvalidParameterValue"),
        (
            LaunchSpec {
                params: LaunchParams { image_id: Some("ami-12345".into()), ..spec("t3.micro", 1).params },
                ..spec("t3.micro", 1)
            },
            "InvalidAMIID.Malformed",
        ),
        (
            LaunchSpec {
                params: LaunchParams { image_id: Some("ami-0123456789abcdef0".into()), ..spec("t3.micro", 1).params },
                ..spec("t3.micro", 1)
            },
            "InvalidAMIID.NotFound",
        ),
        (
            LaunchSpec { params: LaunchParams { image_id: None, ..spec("t3.micro", 1).params }, ..spec("t3.micro", 1) },
            "MissingParameter",
        ),
        (spec("t4g.micro", 1), "InvalidParameterValue"),
        (
            LaunchSpec {
                params: LaunchParams {
                    subnet_id: Some("subnet-0123456789abcdef0".into()),
                    ..spec("t3.micro", 1).params
                },
                ..spec("t3.micro", 1)
            },
            "InvalidSubnetID.NotFound",
        ),
        (
            LaunchSpec {
                params: LaunchParams {
                    security_group_ids: vec!["sg-0123456789abcdef0".into()],
                    ..spec("t3.micro", 1).params
                },
                ..spec("t3.micro", 1)
            },
            "InvalidGroup.NotFound",
        ),
        (
            LaunchSpec {
                params: LaunchParams { key_name: Some("nope".into()), ..spec("t3.micro", 1).params },
                ..spec("t3.micro", 1)
            },
            "InvalidKeyPair.NotFound",
        ),
        (
            LaunchSpec {
                params: LaunchParams { user_data: Some("%%%".into()), ..spec("t3.micro", 1).params },
                ..spec("t3.micro", 1)
            },
            "InvalidParameterValue",
        ),
        (LaunchSpec { min_count: 3, max_count: 2, ..spec("t3.micro", 1) }, "InvalidParameterValue"),
        (
            LaunchSpec {
                params: LaunchParams {
                    iam_instance_profile: Some(berth_model::ec2::templates::ProfileSpec {
                        name: Some("ecsInstanceRole".into()),
                        arn: None,
                    }),
                    ..spec("t3.micro", 1).params
                },
                ..spec("t3.micro", 1)
            },
            "InvalidParameterValue",
        ),
    ];
    for (spec, code) in cases {
        let err = run_instances(&store, &scope(), spec).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    }
    assert!(describe_instances(&store, &[], &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_token_answers_the_same_reservation() {
    let store = MemoryStore::new();
    let with_token = LaunchSpec { client_token: Some("abc/1".into()), ..spec("m5.large", 1) };
    let first = run_instances(&store, &scope(), with_token.clone()).await.unwrap();
    let again = run_instances(&store, &scope(), with_token).await.unwrap();
    assert_eq!(first.reservation_id, again.reservation_id);
    assert_eq!(first.instances[0].instance_id, again.instances[0].instance_id);
    assert_eq!(describe_instances(&store, &[], &[]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn termination_shuts_down_then_the_fleet_frees_the_address() {
    let store = MemoryStore::new();
    let r = run_instances(&store, &scope(), spec("t3.micro", 1)).await.unwrap();
    let id = r.instances[0].instance_id.clone();
    let changes = terminate_instances(&store, std::slice::from_ref(&id)).await.unwrap();
    assert_eq!(
        changes,
        vec![StateChange {
            instance_id: id.clone(),
            previous: InstanceState::Pending,
            current: InstanceState::ShuttingDown
        }]
    );
    let rec = &describe_instances(&store, std::slice::from_ref(&id), &[]).await.unwrap()[0];
    assert!(rec.state_transition_reason.starts_with("User initiated ("));
    assert_eq!(rec.state_reason.as_ref().unwrap().code, "Client.UserInitiatedShutdown");
    assert!(mark_terminated(&store, &id).await.unwrap());
    let subnet = resolve::subnet_by_id(&store, &rec.subnet_id).await.unwrap().value;
    assert!(subnet.allocated_ips.is_empty());
    assert_eq!(expire_terminated(&store, now_ms()).await.unwrap(), 0);
    assert_eq!(expire_terminated(&store, now_ms() + lifecycle::TERMINATED_VISIBLE_MS).await.unwrap(), 1);
    let err = terminate_instances(&store, &[id]).await.unwrap_err();
    assert_eq!(err.code(), "InvalidInstanceID.NotFound");
    let err = terminate_instances(&store, &["i-zz".into()]).await.unwrap_err();
    assert_eq!(err.code(), "InvalidInstanceID.Malformed");
}

#[tokio::test]
async fn stop_and_start_follow_ec2s_rules_and_filters_select() {
    let store = MemoryStore::new();
    let r = run_instances(&store, &scope(), spec("c5.large", 1)).await.unwrap();
    let id = r.instances[0].instance_id.clone();
    let err = stop_instances(&store, std::slice::from_ref(&id)).await.unwrap_err();
    assert_eq!(err.code(), "IncorrectInstanceState", "a pending instance cannot stop");
    let f = |name: &str, v: &str| Filter { name: name.into(), values: vec![v.into()] };
    assert_eq!(
        describe_instances(&store, &[], &[f("instance-state-name", "pending"), f("tag:Name", "w*")])
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(describe_instances(&store, &[], &[f("instance-type", "t3.*")]).await.unwrap().is_empty());
    assert_eq!(describe_instances(&store, &[], &[f("bogus", "x")]).await.unwrap_err().code(), "InvalidParameterValue");
}

#[tokio::test]
async fn a_launch_template_is_merged_under_the_explicit_parameters() {
    let store = MemoryStore::new();
    let template = berth_model::ec2::LaunchTemplateRecord {
        launch_template_id: "lt-0123456789abcdef0".into(),
        launch_template_name: "web".into(),
        create_time: 0,
        created_by: "arn:aws:iam::111122223333:root".into(),
        default_version_number: 1,
        latest_version_number: 2,
        versions: vec![
            berth_model::ec2::LaunchTemplateVersion {
                version_number: 1,
                version_description: None,
                create_time: 0,
                created_by: String::new(),
                data: serde_json::json!({"ImageId": AMI, "InstanceType": "t3.small", "UserData": "aGVsbG8="}),
            },
            berth_model::ec2::LaunchTemplateVersion {
                version_number: 2,
                version_description: None,
                create_time: 0,
                created_by: String::new(),
                data: serde_json::json!({"ImageId": AMI, "InstanceType": "g4dn.xlarge"}),
            },
        ],
        tags: vec![],
    };
    let txn = Txn::new()
        .put(keys::ec2_launch_template(&template.launch_template_id), encode(&template).unwrap())
        .put(keys::ec2_launch_template_name("web"), encode(&template.launch_template_id).unwrap());
    store.txn(txn).await.unwrap();
    let by_name = |version: Option<&str>| LaunchSpec {
        launch_template: Some(TemplateSpec {
            template: TemplateName { name: Some("web".into()), id: None },
            version: version.map(str::to_string),
        }),
        ..Default::default()
    };
    let r = run_instances(&store, &scope(), by_name(None)).await.unwrap();
    let rec = &r.instances[0];
    assert_eq!((rec.instance_type.as_str(), rec.user_data.as_deref()), ("t3.small", Some("hello")));
    assert_eq!(rec.launch_template.as_ref().unwrap().version, "1");
    let r = run_instances(&store, &scope(), by_name(Some("$Latest"))).await.unwrap();
    assert_eq!(r.instances[0].instance_type, "g4dn.xlarge");
    let mut explicit = by_name(Some("$Latest"));
    explicit.params.instance_type = Some("m5.large".into());
    assert_eq!(run_instances(&store, &scope(), explicit).await.unwrap().instances[0].instance_type, "m5.large");
    let err = run_instances(&store, &scope(), by_name(Some("7"))).await.unwrap_err();
    assert_eq!(err.code(), "InvalidLaunchTemplateId.VersionNotFound");
}
