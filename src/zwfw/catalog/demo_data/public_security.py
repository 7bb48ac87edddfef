"""公安: household registration, identity cards, driving licences, passports (mains 100–149)."""

from __future__ import annotations

from zwfw.catalog.demo_data.parts import (
    BOTH,
    CITY,
    COMPULSION_LAW_PERIOD,
    DISTRICT,
    PENALTY_LAW_DEADLINE,
    Spec,
    Sub,
    form,
    household_book,
    id_card,
    law,
    mandate,
    material,
    paper,
    upload,
)

HUKOU_10 = law(
    "中华人民共和国户口登记条例",
    "第十条",
    "公民迁出本户口管辖区，由本人或者户主在迁出前向户口登记机关申报迁出登记，"
    "领取迁移证件，注销户口。",
)
HUKOU_13 = law(
    "中华人民共和国户口登记条例",
    "第十三条",
    "公民迁移，从到达迁入地的时候起，城市在三日以内，农村在十日以内，由本人或者户主持"
    "迁移证件向户口登记机关申报迁入登记，缴销迁移证件。",
)
HUKOU_REFORM = law("国务院关于进一步推进户籍制度改革的意见（国发〔2014〕25号）")
ID_CARD_LAW = law(
    "中华人民共和国居民身份证法",
    "第八条",
    "居民身份证由居民常住户口所在地的县级人民政府公安机关签发。",
)
ROAD_TRAFFIC_19 = law(
    "中华人民共和国道路交通安全法", "第十九条", "驾驶机动车，应当依法取得机动车驾驶证。"
)
DRIVING_RULES = law("机动车驾驶证申领和使用规定（公安部令第162号）")

_HUKOU_VISIT = "户口簿由系统生成电子证照并邮寄纸质户口簿，无需到现场"
_PS_PLACE = "广安区政务服务中心公安综合窗口，或户籍所在地派出所户籍窗口"
_DMV = "广安市公安局交通警察支队车辆管理所（广安市广安区）"
_DMV_UNIT = "广安市公安局交通警察支队车辆管理所"
_ID_REASON = "需本人到场采集人像和指纹信息"
_HUKOU_FAQS = (
    (
        "户口簿可以不提交纸质原件吗？",
        "可以。居民户口簿已纳入电子证照库，网上申请时系统自动调取，无需上传。",
    ),
    (
        "迁入后原户籍地还要去办迁出手续吗？",
        "不需要。本区实行户口迁移“一站式”办理，由迁入地公安机关网上办理迁出手续。",
    ),
)

SPECS: tuple[Spec, ...] = (
    Spec(
        key="hukou_move",
        item_type="07",
        main=101,
        name="户口迁移",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="010",
        conditions="申请人符合本区户口迁入政策，具有合法稳定住所或符合投靠、就学、人才引进等条件。",
        materials=(
            form("户口迁移申请表"),
            household_book(),
            id_card(),
            upload("迁入条件证明材料", instructions="按迁入类别上传相应证明"),
            mandate(),
        ),
        bases=(HUKOU_10, HUKOU_13, HUKOU_REFORM),
        legal=10,
        promised=5,
        depth="IV",
        result=("1", "居民户口簿"),
        events=("relocation",),
        keywords=("户口", "落户", "迁户口"),
        faqs=_HUKOU_FAQS,
        unit="户政科",
        place=_PS_PLACE,
        tongban="2",
        extra={"min_trust_level": "L3", "supports_delivery": True},
        subs=(
            Sub(
                1,
                "户口迁移（夫妻投靠）",
                {
                    "conditions": "申请人与被投靠人为合法夫妻关系，被投靠人具有本区常住户口。",
                    "materials": (
                        form("户口迁移申请表"),
                        household_book(),
                        household_book("被投靠人"),
                        material(
                            "结婚证",
                            kinds="1,3",
                            source="2",
                            issuer="婚姻登记机关",
                            licence="结婚证",
                            exemption="已在电子证照库中的由系统调取",
                        ),
                        mandate(),
                    ),
                    "events": ("relocation", "marriage"),
                },
            ),
            Sub(
                2,
                "户口迁移（子女投靠父母）",
                {
                    "conditions": "未成年子女或未婚子女投靠具有本区常住户口的父母。",
                    "materials": (
                        form("户口迁移申请表"),
                        household_book("父（母）"),
                        household_book("申请人"),
                        material(
                            "出生医学证明或亲子关系证明",
                            kinds="1,3",
                            source="2",
                            issuer="助产机构或公安机关",
                            licence="出生医学证明",
                        ),
                        mandate(),
                    ),
                },
            ),
            Sub(
                3,
                "户口迁移（父母投靠子女）",
                {
                    "conditions": "父母投靠具有本区常住户口的成年子女，"
                    "被投靠子女同意并具有合法住所。",
                    "materials": (
                        form("户口迁移申请表"),
                        household_book(),
                        household_book("被投靠子女"),
                        paper("亲属关系证明", note="户口簿能体现亲属关系的免于提交"),
                        mandate(),
                    ),
                    "events": ("relocation", "elderly"),
                },
            ),
            Sub(
                4,
                "户口迁移（购房迁入）",
                {
                    "conditions": "在本区城镇范围内拥有合法产权住房的人员，本人及其共同居住生活的"
                    "配偶、未成年子女可以申请在住房所在地落户。",
                    "materials": (
                        form("户口迁移申请表"),
                        household_book(),
                        id_card(),
                        upload(
                            "房屋产权证明",
                            instructions="上传不动产权证书，或商品房买卖合同及网签备案证明的"
                            "清晰扫描件",
                            standard="产权人为申请人本人或其配偶，房屋位于本区城镇范围内",
                        ),
                        mandate(),
                    ),
                    "events": ("relocation", "home_purchase"),
                    "keywords": ("户口", "落户", "购房落户"),
                },
            ),
            Sub(
                5,
                "户口迁移（大中专院校录取学生）",
                {
                    "conditions": "被大中专院校录取的新生，自愿将户口迁往学校所在地。",
                    "materials": (
                        form("户口迁移申请表"),
                        household_book(),
                        upload("录取通知书"),
                    ),
                    "events": ("relocation", "schooling"),
                },
            ),
            Sub(
                6,
                "户口迁移（人才引进）",
                {
                    "conditions": "经本区人才主管部门认定的引进人才，本人及其配偶、未成年子女可"
                    "申请落户。",
                    "materials": (
                        form("户口迁移申请表"),
                        household_book(),
                        upload("人才引进认定证明", source="2", issuer="广安区人才工作主管部门"),
                        mandate(),
                    ),
                    "events": ("relocation", "employment"),
                },
            ),
        ),
    ),
    Spec(
        key="birth_registration",
        item_type="07",
        main=102,
        name="出生登记",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="010,005",
        conditions="婴儿出生后一个月以内，由户主、亲属、抚养人向婴儿常住地户口登记机关申报。",
        materials=(
            material(
                "出生医学证明",
                kinds="1,3",
                source="2",
                issuer="助产机构",
                copies=1,
                licence="出生医学证明",
                exemption="已纳入电子证照库的由系统调取",
            ),
            household_book("父（母）"),
            id_card("父母双方"),
            material(
                "结婚证",
                kinds="1,3",
                source="2",
                issuer="婚姻登记机关",
                licence="结婚证",
                required=False,
                note="父母为合法夫妻的提供",
            ),
        ),
        bases=(
            law(
                "中华人民共和国户口登记条例",
                "第七条",
                "婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关"
                "申报出生登记。",
            ),
        ),
        legal=5,
        promised=3,
        depth="IV",
        result=("1", "居民户口簿"),
        events=("birth",),
        keywords=("户口", "新生儿上户", "报户口"),
        unit="户政科",
        place=_PS_PLACE,
        extra={"supports_delivery": True, "min_trust_level": "L3"},
        faqs=(("新生儿上户口可以和医保参保一起办吗？", "可以，在“出生一件事”中一并申请。"),),
    ),
    Spec(
        key="death_deregistration",
        item_type="07",
        main=103,
        name="死亡注销户口",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="010,155",
        conditions="公民死亡后，由户主、亲属或抚养人申报死亡登记，注销户口。",
        materials=(
            material(
                "居民死亡医学证明（推断）书或火化证明",
                kinds="1,3",
                source="9",
                issuer="医疗卫生机构或殡仪馆",
            ),
            household_book("死者"),
            id_card("申报人"),
        ),
        bases=(
            law(
                "中华人民共和国户口登记条例",
                "第八条",
                "公民死亡，城市在葬前，农村在一个月以内，由户主、亲属、抚养人或者邻居"
                "向户口登记机关申报死亡登记，注销户口。",
            ),
        ),
        legal=1,
        promised=0,
        case_type="1",
        depth="III",
        result=("2", "注销户口证明"),
        events=("death",),
        keywords=("户口", "销户"),
        unit="户政科",
        place=_PS_PLACE,
    ),
    Spec(
        key="household_book_reissue",
        item_type="07",
        main=104,
        name="居民户口簿补领、换领",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="010,090",
        conditions="居民户口簿遗失、损坏或户口簿内容变更需要换领的。",
        materials=(form("居民户口簿补（换）领申请表"), id_card("户主或本户成员")),
        bases=(law("中华人民共和国户口登记条例"),),
        legal=5,
        promised=1,
        case_type="1",
        depth="IV",
        result=("1", "居民户口簿"),
        keywords=("户口", "户口本"),
        unit="户政科",
        place=_PS_PLACE,
        extra={"supports_delivery": True},
    ),
    Spec(
        key="id_card",
        item_type="07",
        main=105,
        name="居民身份证申领",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="090",
        conditions="具有本区常住户口的中国公民。",
        materials=(form("居民身份证申领登记表"), household_book()),
        bases=(ID_CARD_LAW,),
        legal=(60, "2"),
        legal_note="自提交申领登记表之日起60日内发放；交通不便的地区可延长，但不超过30日",
        promised=15,
        depth="II",
        visit_reason=_ID_REASON,
        result=("1", "居民身份证"),
        keywords=("身份证", "办身份证"),
        events=("birth",),
        unit="户政科",
        place=_PS_PLACE,
        extra={"supports_delivery": True, "supports_appointment": True},
        fees=(
            {
                "name": "居民身份证工本费",
                "standard": "每证20元",
                "amount": "20.00",
                "basis": "国家发展改革委、财政部关于居民身份证收费标准的规定",
                "reducible": True,
            },
        ),
        subs=(
            Sub(
                1,
                "居民身份证首次申领",
                {
                    "conditions": "年满十六周岁的本区常住户口公民首次申领；未满十六周岁的可以"
                    "依照规定申请领取。",
                    "events": ("birth", "schooling"),
                },
            ),
            Sub(
                2,
                "居民身份证到期换领",
                {
                    "conditions": "居民身份证有效期届满或即将届满（届满前三个月内）的。",
                    "materials": (form("居民身份证申领登记表"), id_card("原")),
                    "tongban": "1",
                },
            ),
            Sub(
                3,
                "居民身份证遗失补领",
                {
                    "conditions": "居民身份证遗失或损坏无法辨认的。",
                    "materials": (form("居民身份证申领登记表"), household_book()),
                    "tongban": "1",
                    "fees": (
                        {
                            "name": "居民身份证工本费（补领、损坏换领）",
                            "standard": "每证40元",
                            "amount": "40.00",
                            "basis": "国家发展改革委、财政部关于居民身份证收费标准的规定",
                        },
                    ),
                },
            ),
            Sub(
                4,
                "临时居民身份证申领",
                {
                    "conditions": "正在申领、换领、补领居民身份证期间急需使用居民身份证的。",
                    "materials": (form("临时居民身份证申领登记表"), household_book()),
                    "promised": 3,
                    "legal": 3,
                    "legal_note": "自申请之日起3日内签发",
                    "result": ("1", "临时居民身份证"),
                    "visit_reason": "需本人到场采集人像",
                    "fees": (
                        {
                            "name": "临时居民身份证工本费",
                            "standard": "每证10元",
                            "amount": "10.00",
                            "basis": "国家发展改革委、财政部关于居民身份证收费标准的规定",
                        },
                    ),
                },
            ),
        ),
    ),
    Spec(
        key="residence_permit",
        item_type="20",
        main=106,
        name="居住证申领",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="090,010",
        conditions="离开常住户口所在地，到本区居住半年以上，符合有合法稳定就业、合法稳定住所、"
        "连续就读条件之一的公民。",
        materials=(
            form("居住证申领登记表"),
            id_card(),
            paper("居住证明（房屋产权证明或租赁合同）"),
            paper("就业或就读证明", required=False, note="以就业、就读条件申领的提供"),
        ),
        bases=(
            law(
                "居住证暂行条例",
                "第二条",
                "公民离开常住户口所在地，到其他城市居住半年以上，符合有合法稳定就业、合法稳定"
                "住所、连续就读条件之一的，可以依照本条例的规定申领居住证。",
            ),
        ),
        legal=15,
        promised=10,
        depth="III",
        visit_reason="首次申领需采集人像",
        result=("1", "居住证"),
        events=("relocation", "employment"),
        keywords=("居住证",),
        unit="户政科",
        place=_PS_PLACE,
    ),
    Spec(
        key="no_criminal_record",
        item_type="20",
        main=107,
        name="无犯罪记录证明开具",
        dept="public_security",
        at=DISTRICT,
        targets="1",
        person_themes="030,120",
        conditions="中国公民因就业、出国等需要，查询本人在本地有无犯罪记录的。",
        materials=(form("无犯罪记录证明申请表"), id_card(), mandate()),
        bases=(law("公安机关办理犯罪记录查询工作规定（公通字〔2021〕19号）"),),
        legal=3,
        promised=1,
        depth="IV",
        result=("2", "无犯罪记录证明"),
        events=("employment", "travel_abroad"),
        keywords=("无犯罪", "开证明"),
        unit="户政科",
        place=_PS_PLACE,
        tongban="1",
    ),
    Spec(
        key="driving_licence",
        item_type="01",
        main=108,
        name="机动车驾驶证核发、审验",
        dept="public_security",
        at=CITY,
        targets="1",
        person_themes="095,090",
        conditions="符合机动车驾驶许可条件（年龄、身体条件），经考试合格的申请人。",
        materials=(
            form("机动车驾驶证申请表"),
            id_card(),
            material(
                "机动车驾驶人身体条件证明",
                kinds="1,3",
                source="9",
                issuer="具有资质的医疗机构",
                exemption="医疗机构已上传电子体检信息的免于提交",
            ),
        ),
        bases=(ROAD_TRAFFIC_19, DRIVING_RULES),
        legal=(1, "1"),
        promised=1,
        case_type="1",
        depth="III",
        visit_reason="需本人到场参加考试或核验",
        result=("1", "机动车驾驶证"),
        events=("driving",),
        keywords=("驾驶证", "驾照"),
        place=_DMV,
        unit=_DMV_UNIT,
        fees=(
            {
                "name": "机动车驾驶证工本费",
                "standard": "每证10元",
                "amount": "10.00",
                "basis": "国家发展改革委、财政部关于公安交通管理收费标准的规定",
            },
        ),
        extra={"in_service_hall": False, "supports_delivery": True},
        subs=(
            Sub(
                1,
                "机动车驾驶证初次申领",
                {
                    "conditions": "年满18周岁、身体条件符合规定，经科目一至科目四考试合格的。",
                    "fees": (
                        {
                            "name": "机动车驾驶证工本费",
                            "standard": "每证10元",
                            "amount": "10.00",
                            "basis": "国家发展改革委、财政部关于公安交通管理收费标准的规定",
                        },
                        {
                            "name": "机动车驾驶人考试费",
                            "standard": "按四川省核定的分科目标准收取",
                            "basis": "四川省发展和改革委员会、四川省财政厅有关收费标准",
                        },
                    ),
                },
            ),
            Sub(
                2,
                "机动车驾驶证增加准驾车型申领",
                {
                    "conditions": "已持有机动车驾驶证，申请增加准驾车型，"
                    "符合相应驾龄和记分条件的。",
                    "materials": (
                        form("机动车驾驶证申请表"),
                        id_card(),
                        material(
                            "机动车驾驶证",
                            kinds="1,3",
                            source="2",
                            issuer="公安机关交通管理部门",
                            licence="机动车驾驶证",
                        ),
                    ),
                },
            ),
            Sub(
                3,
                "机动车驾驶证有效期满换证",
                {
                    "conditions": "机动车驾驶证有效期满前九十日内申请换证。",
                    "depth": "IV",
                    "tongban": "1",
                    "materials": (
                        form("机动车驾驶证申请表"),
                        id_card(),
                        upload("机动车驾驶人身体条件证明", source="9", issuer="具有资质的医疗机构"),
                    ),
                },
            ),
            Sub(
                4,
                "机动车驾驶证遗失补证",
                {
                    "conditions": "机动车驾驶证遗失的。",
                    "depth": "IV",
                    "tongban": "1",
                    "materials": (form("机动车驾驶证申请表"), id_card()),
                },
            ),
            Sub(
                5,
                "机动车驾驶证审验",
                {
                    "conditions": "持有大中型客货车驾驶证或记分周期内有记分未满分的"
                    "驾驶人按规定审验。",
                    "result": ("3", "审验结果"),
                    "fees": (),
                },
            ),
        ),
    ),
    Spec(
        key="vehicle_registration",
        item_type="07",
        main=109,
        name="机动车注册登记",
        dept="public_security",
        at=CITY,
        targets="1,2,3,4,6",
        person_themes="095",
        legal_themes="090",
        conditions="新购机动车或未登记的机动车上道路行驶前，所有人申请注册登记。",
        materials=(
            form("机动车注册登记申请表"),
            id_card("机动车所有人"),
            paper("机动车来历证明（购车发票）"),
            paper("机动车整车出厂合格证明或进口凭证"),
            paper("车辆购置税完税证明或免税凭证", source="2", issuer="税务机关"),
            paper("机动车交通事故责任强制保险凭证"),
        ),
        bases=(
            law(
                "中华人民共和国道路交通安全法",
                "第八条",
                "国家对机动车实行登记制度。机动车经公安机关交通管理部门登记后，方可上道路行驶。",
            ),
            law("机动车登记规定（公安部令第164号）"),
        ),
        legal=(2, "1"),
        promised=1,
        case_type="1",
        depth="II",
        visit_reason="需将机动车送至查验区查验",
        result=("1", "机动车行驶证"),
        events=("driving",),
        keywords=("上牌", "车牌", "机动车"),
        place=_DMV,
        unit=_DMV_UNIT,
        fees=(
            {
                "name": "机动车号牌、行驶证、登记证书工本费",
                "standard": "按国家规定标准收取",
                "basis": "国家发展改革委、财政部关于公安交通管理收费标准的规定",
            },
        ),
        extra={"in_service_hall": False},
    ),
    Spec(
        key="passport",
        item_type="01",
        main=110,
        name="普通护照签发",
        dept="public_security",
        at=BOTH,
        targets="1",
        person_themes="105",
        conditions="中国公民因前往外国定居、探亲、学习、就业、旅行、从事商务活动等非公务原因出国的。",
        materials=(form("中国公民出入境证件申请表"), id_card()),
        bases=(
            law(
                "中华人民共和国护照法",
                "第五条",
                "公民因前往外国定居、探亲、学习、就业、旅行、从事商务活动等非公务原因出国的，"
                "由本人向户籍所在地的县级以上地方人民政府公安机关出入境管理机构申请普通护照。",
            ),
        ),
        legal=(15, "2"),
        legal_note="自收到申请材料之日起15日内签发；偏远地区或特殊情况可延长至30日",
        promised=7,
        depth="II",
        visit_reason="需本人到场采集指纹和人像",
        result=("1", "普通护照"),
        events=("travel_abroad",),
        keywords=("护照", "出国"),
        unit="出入境管理大队",
        tongban="1",
        fees=(
            {
                "name": "普通护照证件费",
                "standard": "每本120元",
                "amount": "120.00",
                "basis": "国家发展改革委、财政部关于出入境证件收费标准的规定",
            },
        ),
        extra={"supports_delivery": True, "supports_appointment": True},
    ),
    Spec(
        key="traffic_penalty",
        item_type="02",
        main=111,
        name="对机动车驾驶人违反道路通行规定的处罚",
        dept="public_security",
        at=CITY,
        targets="1",
        conditions="机动车驾驶人违反道路交通安全法律、法规关于道路通行规定的。",
        materials=(),
        bases=(
            law(
                "中华人民共和国道路交通安全法",
                "第九十条",
                "机动车驾驶人违反道路交通安全法律、法规关于道路通行规定的，处警告或者二十元"
                "以上二百元以下罚款。本法另有规定的，依照规定处罚。",
            ),
            PENALTY_LAW_DEADLINE,
        ),
        keywords=("违章", "罚款", "驾驶证"),
        unit=_DMV_UNIT.replace("车辆管理所", "秩序管理大队"),
        place="广安市公安局交通警察支队（广安市广安区）",
        power_content="警告；二十元以上二百元以下罚款",
        extra={"in_service_hall": False},
    ),
    Spec(
        key="vehicle_detention",
        item_type="03",
        main=112,
        name="扣留机动车",
        dept="public_security",
        at=CITY,
        targets="1,2,6",
        conditions="机动车未悬挂号牌、未放置检验合格标志或保险标志、未随车携带行驶证和驾驶证，"
        "或有其他依法应当扣留情形的。",
        materials=(),
        bases=(law("中华人民共和国道路交通安全法"), COMPULSION_LAW_PERIOD),
        keywords=("扣车",),
        unit=_DMV_UNIT.replace("车辆管理所", "秩序管理大队"),
        place="广安市公安局交通警察支队（广安市广安区）",
        power_content="扣留机动车，并出具行政强制措施凭证",
        extra={"in_service_hall": False},
    ),
)
