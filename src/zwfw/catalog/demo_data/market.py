"""市场监督管理: food licences, company registration, enforcement (mains 200–249)."""

from __future__ import annotations

from zwfw.catalog.demo_data.parts import (
    BOTH,
    CITY,
    COMPULSION_LAW_PERIOD,
    DISTRICT,
    PENALTY_LAW_DEADLINE,
    Spec,
    Sub,
    business_licence,
    form,
    id_card,
    law,
    legal_rep_id,
    lifecycle,
    mandate,
    material,
    paper,
    upload,
)

FOOD_SAFETY_35 = law(
    "中华人民共和国食品安全法",
    "第三十五条",
    "国家对食品生产经营实行许可制度。从事食品生产、食品销售、餐饮服务，应当依法取得许可。"
    "但是，销售食用农产品和仅销售预包装食品的，不需要取得许可。仅销售预包装食品的，应当报"
    "所在地县级以上地方人民政府食品安全监督管理部门备案。",
)
FOOD_SAFETY_110 = law(
    "中华人民共和国食品安全法",
    "第一百一十条",
    "县级以上人民政府食品安全监督管理部门履行食品安全监督管理职责，有权采取下列措施，对生产"
    "经营者遵守本法的情况进行监督检查：（一）进入生产经营场所实施现场检查；……（四）查封、"
    "扣押有证据证明不符合食品安全标准或者有证据证明存在安全隐患以及用于违法生产经营的食品、"
    "食品添加剂、食品相关产品。",
)
LICENSING_TIME = law(
    "中华人民共和国行政许可法",
    "第四十二条",
    "除可以当场作出行政许可决定的外，行政机关应当自受理行政许可申请之日起二十日内作出行政"
    "许可决定。二十日内不能作出决定的，经本行政机关负责人批准，可以延长十日，并应当将延长"
    "期限的理由告知申请人。",
)
MARKET_REGISTRATION = law(
    "中华人民共和国市场主体登记管理条例",
    "第三条",
    "市场主体应当依照本条例办理登记。未经登记，不得以市场主体名义从事经营活动。法律、行政"
    "法规规定无需办理登记的除外。",
)
_FOOD_FAQS = (
    (
        "从业人员健康证明必须提交吗？",
        "从事接触直接入口食品工作的从业人员应当取得健康证明后方可上岗，申请时一并提交。",
    ),
    (
        "可以先领证后核查吗？",
        "符合告知承诺条件的，可以先作出许可决定，再在规定期限内进行现场核查。",
    ),
)

SPECS: tuple[Spec, ...] = (
    Spec(
        key="food_business",
        item_type="01",
        main=201,
        name="食品经营许可",
        dept="market",
        at=BOTH,
        targets="2,6",
        legal_themes="010",
        conditions="有与经营的食品品种、数量相适应的食品原料处理和食品加工、销售、贮存等场所；"
        "有相应的设备或者设施；有专职或者兼职的食品安全专业技术人员、食品安全管理人员和保证"
        "食品安全的规章制度；具有合理的设备布局和工艺流程。",
        materials=(
            form("食品经营许可申请书"),
            business_licence(),
            legal_rep_id(),
            upload(
                "经营场所平面图和设备布局图",
                instructions="标明经营场所面积、功能区划分和主要设备位置",
            ),
            paper(
                "从业人员健康证明",
                source="9",
                issuer="具有健康体检资质的医疗卫生机构",
                instructions="接触直接入口食品的从业人员每人一份，在有效期内",
            ),
            paper("食品安全管理制度文本"),
            mandate(),
        ),
        bases=(FOOD_SAFETY_35, LICENSING_TIME, law("食品经营许可和备案管理办法")),
        legal=20,
        promised=15,
        depth="IV",
        special="24",
        result=("1", "食品经营许可证"),
        events=("start_business", "operating"),
        keywords=("餐饮", "食品", "开饭店", "食品经营许可证"),
        faqs=_FOOD_FAQS,
        district={"promised": 10},
        variants=lifecycle("食品经营许可证", promised=5),
    ),
    Spec(
        key="food_production",
        item_type="01",
        main=202,
        name="食品生产许可",
        dept="market",
        at=CITY,
        targets="2,6",
        legal_themes="010",
        conditions="具有与生产的食品品种、数量相适应的生产场所、设备设施、专业技术人员和管理"
        "人员，有保证食品安全的规章制度，具有合理的设备布局和工艺流程。",
        materials=(
            form("食品生产许可申请书"),
            business_licence(),
            upload("食品生产加工场所及其周围环境平面图"),
            upload("食品生产加工场所各功能区间布局平面图"),
            upload("工艺设备布局图和食品生产工艺流程图"),
            paper("食品生产主要设备、设施清单"),
            paper("食品安全管理制度目录"),
        ),
        bases=(FOOD_SAFETY_35, LICENSING_TIME, law("食品生产许可管理办法")),
        legal=20,
        promised=10,
        special="24,22",
        result=("1", "食品生产许可证"),
        events=("start_business", "operating"),
        keywords=("食品", "食品厂", "SC"),
        variants=lifecycle("食品生产许可证", promised=5),
    ),
    Spec(
        key="drug_retail",
        item_type="01",
        main=203,
        name="药品经营许可（零售）",
        dept="market",
        at=DISTRICT,
        targets="2,6",
        legal_themes="010,110",
        conditions="具有依法经过资格认定的药师或者其他药学技术人员；有与所经营药品相适应的营业"
        "场所、设备、仓储设施和卫生环境；有与所经营药品相适应的质量管理机构或者人员；有保证"
        "药品质量的规章制度。",
        materials=(
            form("药品经营许可证申请表"),
            business_licence(),
            material(
                "执业药师注册证",
                kinds="1,3",
                source="2",
                issuer="药品监督管理部门",
                licence="执业药师注册证",
            ),
            upload("经营场所和仓库平面布局图"),
            paper("药品质量管理文件目录"),
        ),
        bases=(
            law(
                "中华人民共和国药品管理法",
                "第五十一条",
                "从事药品零售活动，应当经所在地县级以上地方人民政府药品监督管理部门批准，取得"
                "药品经营许可证。无药品经营许可证的，不得经营药品。",
            ),
            law("药品经营和使用质量监督管理办法"),
        ),
        legal=20,
        promised=10,
        special="24",
        result=("1", "药品经营许可证"),
        events=("start_business", "operating"),
        keywords=("药店", "药品"),
        variants=lifecycle("药品经营许可证", promised=5),
    ),
    Spec(
        key="special_equipment",
        item_type="01",
        main=204,
        name="特种设备使用登记",
        dept="market",
        at=CITY,
        targets="2,3,6",
        legal_themes="145,135",
        conditions="特种设备投入使用前或者投入使用后三十日内，使用单位申请办理使用登记。",
        materials=(
            form("特种设备使用登记表"),
            business_licence(),
            paper("特种设备产品合格证"),
            paper("监督检验证明和定期检验报告", source="9", issuer="特种设备检验机构"),
        ),
        bases=(
            law(
                "中华人民共和国特种设备安全法",
                "第三十三条",
                "特种设备使用单位应当在特种设备投入使用前或者投入使用后三十日内，向负责特种设备"
                "安全监督管理的部门办理使用登记，取得使用登记证书。登记标志应当置于该特种设备的"
                "显著位置。",
            ),
        ),
        legal=15,
        promised=5,
        depth="IV",
        result=("1", "特种设备使用登记证"),
        events=("operating",),
        keywords=("电梯", "锅炉", "特种设备"),
        unit="特种设备安全监察科",
    ),
    Spec(
        key="company_registration",
        item_type="01",
        main=205,
        name="公司登记",
        dept="market",
        at=BOTH,
        targets="2",
        legal_themes="005",
        conditions="申请人符合《中华人民共和国公司法》规定的设立、变更、注销条件，申请材料齐全、"
        "符合法定形式。",
        materials=(
            form("公司登记（备案）申请书"),
            legal_rep_id(),
            paper("公司章程"),
            paper("住所（经营场所）使用证明", note="已实行住所申报承诺制的免于提交"),
            mandate(),
        ),
        bases=(MARKET_REGISTRATION, law("中华人民共和国公司法")),
        legal=3,
        legal_note="申请材料齐全、符合法定形式的当场登记；不能当场登记的，3个工作日内予以登记",
        promised=1,
        depth="IV",
        result=("1", "营业执照"),
        events=("start_business",),
        keywords=("营业执照", "开公司", "注册公司", "工商"),
        subs=(
            Sub(
                1,
                "公司设立登记",
                {
                    "conditions": "股东符合法定人数，有符合公司章程规定的出资，有公司名称、"
                    "住所和组织机构。",
                    "materials": (
                        form("公司登记（备案）申请书"),
                        paper("公司章程"),
                        id_card("股东（自然人）"),
                        paper("法定代表人、董事、监事和经理的任职文件"),
                        paper("住所（经营场所）使用证明", note="已实行住所申报承诺制的免于提交"),
                        mandate(),
                    ),
                    "faqs": (
                        (
                            "开办企业要跑几次？",
                            "营业执照、刻制印章、申领发票、社保登记可在“企业开办一网通办”中一次"
                            "申请，全程网办，最快1个工作日办结。",
                        ),
                    ),
                },
            ),
            Sub(
                2,
                "公司变更登记",
                {
                    "conditions": "公司名称、住所、法定代表人、注册资本、经营范围、股东等登记"
                    "事项发生变更的，应当自作出变更决议或者决定之日起30日内申请变更登记。",
                    "materials": (
                        form("公司登记（备案）申请书"),
                        paper("关于变更事项的决议或者决定"),
                        paper("修改后的公司章程或章程修正案"),
                        business_licence(),
                        mandate(),
                    ),
                    "events": ("change",),
                },
            ),
            Sub(
                3,
                "公司注销登记",
                {
                    "conditions": "公司解散、完成清算，或者未发生债权债务、"
                    "承诺适用简易注销程序的。",
                    "materials": (
                        form("公司注销登记申请书"),
                        paper("清算报告或全体投资人承诺书"),
                        paper(
                            "清税证明",
                            source="2",
                            issuer="税务机关",
                            note="已与税务部门信息共享的免于提交",
                        ),
                        mandate(),
                    ),
                    "legal_themes": "165",
                    "result": ("2", "准予注销登记通知书"),
                    "events": ("closure",),
                },
            ),
        ),
    ),
    Spec(
        key="individual_business",
        item_type="01",
        main=206,
        name="个体工商户登记",
        dept="market",
        at=DISTRICT,
        targets="1",
        person_themes="035,030",
        conditions="有经营能力的公民，有固定的经营场所，从事法律法规不禁止的经营活动。",
        materials=(
            form("个体工商户登记（备案）申请书"),
            id_card("经营者"),
            paper("经营场所使用证明", note="实行住所申报承诺制的免于提交"),
            mandate(),
        ),
        bases=(MARKET_REGISTRATION, law("促进个体工商户发展条例")),
        legal=3,
        promised=0,
        case_type="1",
        depth="IV",
        result=("1", "营业执照"),
        events=("start_business", "employment"),
        keywords=("个体户", "营业执照", "开店"),
        subs=(
            Sub(1, "个体工商户设立登记", {}),
            Sub(
                2,
                "个体工商户变更登记",
                {
                    "conditions": "个体工商户名称、经营者、组成形式、经营范围、经营场所等登记"
                    "事项变更的。",
                    "events": ("change",),
                },
            ),
            Sub(
                3,
                "个体工商户注销登记",
                {
                    "conditions": "个体工商户不再从事经营活动的。",
                    "result": ("2", "准予注销登记通知书"),
                    "events": ("closure",),
                },
            ),
        ),
    ),
    Spec(
        key="prepackaged_food_filing",
        item_type="10",
        main=207,
        name="仅销售预包装食品备案",
        dept="market",
        at=DISTRICT,
        targets="1,2,6",
        person_themes="040",
        legal_themes="010",
        conditions="仅销售预包装食品的经营者，在办理营业执照后向所在地市场监督管理部门备案。",
        materials=(form("仅销售预包装食品经营者备案信息采集表"), business_licence()),
        bases=(FOOD_SAFETY_35,),
        legal=(1, "1"),
        promised=0,
        case_type="1",
        depth="IV",
        result=("2", "备案回执"),
        events=("operating",),
        keywords=("食品", "预包装", "备案"),
    ),
    Spec(
        key="food_licence_penalty",
        item_type="02",
        main=208,
        name="对未取得食品经营许可从事食品经营活动的行政处罚",
        dept="market",
        at=BOTH,
        targets="1,2,6",
        conditions="未取得食品生产经营许可从事食品生产经营活动的。",
        materials=(),
        bases=(
            law(
                "中华人民共和国食品安全法",
                "第一百二十二条",
                "违反本法规定，未取得食品生产经营许可从事食品生产经营活动，或者未取得食品添加剂"
                "生产许可从事食品添加剂生产活动的，由县级以上人民政府食品安全监督管理部门没收"
                "违法所得和违法生产经营的食品、食品添加剂以及用于违法生产经营的工具、设备、原料"
                "等物品；违法生产经营的食品、食品添加剂货值金额不足一万元的，并处五万元以上十万元"
                "以下罚款；货值金额一万元以上的，并处货值金额十倍以上二十倍以下罚款。",
            ),
            PENALTY_LAW_DEADLINE,
        ),
        special="21",
        keywords=("无证经营", "处罚"),
        unit="执法支队",
        power_content="没收违法所得和违法生产经营的食品及工具、设备、原料；并处罚款",
    ),
    Spec(
        key="expired_food_penalty",
        item_type="02",
        main=209,
        name="对经营超过保质期食品的行政处罚",
        dept="market",
        at=DISTRICT,
        targets="1,2,6",
        conditions="生产经营超过保质期的食品、食品添加剂的。",
        materials=(),
        bases=(
            law(
                "中华人民共和国食品安全法",
                "第一百二十四条",
                "（五）生产经营标注虚假生产日期、保质期或者超过保质期的食品、食品添加剂。",
            ),
            PENALTY_LAW_DEADLINE,
        ),
        special="21",
        keywords=("过期食品", "处罚"),
        unit="执法大队",
        power_content="没收违法所得和违法生产经营的食品；并处罚款；情节严重的吊销许可证",
    ),
    Spec(
        key="food_seizure",
        item_type="03",
        main=210,
        name="查封、扣押不符合食品安全标准的食品",
        dept="market",
        at=BOTH,
        targets="1,2,6",
        conditions="有证据证明食品、食品添加剂、食品相关产品不符合食品安全标准或者存在安全隐患，"
        "以及用于违法生产经营的。",
        materials=(),
        bases=(FOOD_SAFETY_110, COMPULSION_LAW_PERIOD),
        keywords=("查封", "扣押"),
        unit="执法支队",
        power_content="查封、扣押有关食品、食品添加剂、食品相关产品及违法生产经营场所",
    ),
    Spec(
        key="food_inspection",
        item_type="06",
        main=211,
        name="食品生产经营监督检查",
        dept="market",
        at=BOTH,
        targets="1,2,6",
        conditions="按照年度监督检查计划和“双随机、一公开”要求，对食品生产经营者实施监督检查。",
        materials=(),
        bases=(FOOD_SAFETY_110, law("食品生产经营监督检查管理办法")),
        keywords=("食品", "检查"),
        unit="食品安全监督管理科",
        power_content="进入生产经营场所实施现场检查，抽样检验，查阅、复制有关合同、票据、账簿",
    ),
    Spec(
        key="food_report_reward",
        item_type="08",
        main=212,
        name="食品安全违法行为举报奖励",
        dept="market",
        at=CITY,
        targets="1,2,3,4,6",
        person_themes="110",
        legal_themes="135",
        conditions="举报食品安全违法行为，经查证属实并依法作出处理的实名举报人。",
        materials=(
            form("举报奖励申请表"),
            id_card("举报人"),
            paper("举报奖励领取通知书", source="2", issuer="市场监督管理部门"),
        ),
        bases=(
            law(
                "中华人民共和国食品安全法",
                "第一百一十五条",
                "县级以上人民政府食品安全监督管理等部门应当公布本部门的电子邮件地址或者电话，"
                "接受咨询、投诉、举报。……对查证属实的举报，给予举报人奖励。",
            ),
            law("市场监督管理领域重大违法行为举报奖励暂行办法"),
        ),
        legal=(60, "2"),
        promised=20,
        result=("2", "举报奖励决定书"),
        keywords=("举报", "奖励"),
        unit="投诉举报中心",
    ),
    Spec(
        key="patent_dispute",
        item_type="09",
        main=213,
        name="专利侵权纠纷行政裁决",
        dept="market",
        at=CITY,
        targets="1,2,3,4,6",
        person_themes="125",
        legal_themes="125",
        conditions="专利权人或者利害关系人请求处理专利侵权纠纷，有明确的被请求人、具体的请求事项"
        "和事实、理由，且当事人没有就该纠纷向人民法院起诉。",
        materials=(
            form("专利侵权纠纷处理请求书", copies=2),
            paper("专利权有效的证明（专利证书、年费缴纳凭证）"),
            paper("侵权证据材料"),
            mandate(),
        ),
        bases=(
            law(
                "中华人民共和国专利法",
                "第六十五条",
                "未经专利权人许可，实施其专利，即侵犯其专利权，引起纠纷的，由当事人协商解决；"
                "不愿协商或者协商不成的，专利权人或者利害关系人可以向人民法院起诉，也可以请求"
                "管理专利工作的部门处理。",
            ),
        ),
        legal=(90, "2"),
        legal_note="自立案之日起3个月内结案；案件复杂的经批准可延长1个月",
        promised=(90, "2"),
        special="21,23",
        result=("2", "专利侵权纠纷处理决定书"),
        keywords=("专利", "侵权", "知识产权"),
        unit="知识产权保护科",
    ),
    Spec(
        key="company_archive",
        item_type="20",
        main=214,
        name="企业登记档案查询",
        dept="market",
        at=BOTH,
        targets="1,2,3,4,5,6",
        person_themes="999",
        legal_themes="999",
        conditions="企业查询本企业登记档案；公民、法人和其他组织查询企业公示信息以外的档案需"
        "提供合法理由。",
        materials=(form("企业登记档案查询申请表"), id_card("查询人"), mandate()),
        bases=(law("企业登记档案资料查询办法"),),
        legal=(1, "1"),
        promised=0,
        case_type="1",
        depth="IV",
        result=("2", "企业登记档案查询结果"),
        keywords=("工商档案", "查档", "营业执照"),
    ),
    Spec(
        key="equity_pledge",
        item_type="07",
        main=215,
        name="股权出质登记",
        dept="market",
        at=CITY,
        targets="1,2",
        person_themes="045",
        legal_themes="050",
        conditions="以持有的有限责任公司和股份有限公司股权出质的，出质人和质权人共同申请。",
        materials=(
            form("股权出质登记申请书"),
            paper("质押合同"),
            id_card("出质人和质权人（自然人）"),
            mandate(),
        ),
        bases=(
            law(
                "中华人民共和国民法典",
                "第四百四十三条",
                "以基金份额、股权出质的，质权自办理出质登记时设立。",
            ),
            law("股权出质登记办法"),
        ),
        legal=3,
        promised=1,
        depth="IV",
        result=("2", "股权出质登记通知书"),
        events=("change",),
        keywords=("股权", "质押"),
    ),
)
